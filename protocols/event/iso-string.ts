/**
 * `date.toISOString()`, remembering the last two results: a burst of messages shares the
 * gateway's receive time (and a device's second-resolution timestamp), so most calls repeat, and
 * each `toISOString` is a fresh string that costs the hot paths about a microsecond with its
 * collection (issue 18). Pure in result: the same instant always gives the same text.
 */
const cache = { ms: [Number.NaN, Number.NaN], text: ['', ''], next: 0 };

export function isoString(date: Date): string {
  const ms = date.getTime();
  const c = cache;
  if (ms === c.ms[0]) return c.text[0]!;
  if (ms === c.ms[1]) return c.text[1]!;
  const text = date.toISOString();
  c.ms[c.next] = ms;
  c.text[c.next] = text;
  c.next ^= 1;
  return text;
}

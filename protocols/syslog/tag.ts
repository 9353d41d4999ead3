/**
 * What rsyslog derives from an RFC 3164 TAG: the program name and the process id. Shared by the
 * plain RFC 3164 parser and the Cisco IOS header parser.
 */

/** rsyslog's programname: the tag up to the first ':', '[' or '/', or a control character. */
export function programNameOf(tag: string): string | null {
  let i = 0;
  while (i < tag.length) {
    const c = tag.charCodeAt(i);
    if (c === 58 || c === 91 || c === 47 || c < 32 || c === 127) break;
    i++;
  }
  return i === 0 ? null : tag.slice(0, i);
}

/** The PID inside `prog[pid]:`, which rsyslog reports as PROCID for RFC 3164 messages. */
export function procIdOf(tag: string): string | null {
  const open = tag.indexOf('[');
  if (open < 0) return null;
  const close = tag.indexOf(']', open + 1);
  if (close <= open + 1) return null;
  return tag.slice(open + 1, close);
}

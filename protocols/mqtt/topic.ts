/**
 * MQTT topic names and filters (MQTT 3.1.1 §4.7): validation, matching, the classification a
 * security view cares about (`#`, `+`, `$SYS/...`), and the ACL side: Mosquitto-style `%u`/`%c`
 * patterns and whether an allowed filter covers a requested subscription.
 */

export interface FilterClass {
  /** Contains `#`: everything below a level ([MQTT-4.7.1-2]). */
  multiLevel: boolean;
  /** Contains `+`. */
  singleLevel: boolean;
  /** Starts with `$SYS`: the broker's own statistics and state ([MQTT-4.7.2-1] for `$` topics). */
  sys: boolean;
  /** Exactly `#`: every application topic. */
  all: boolean;
}

export function classifyFilter(filter: string): FilterClass {
  return {
    multiLevel: filter.includes('#'),
    singleLevel: filter.includes('+'),
    sys: filter.startsWith('$SYS'),
    all: filter === '#',
  };
}

/** A valid filter: `#` only alone as the last level, `+` only alone in a level ([MQTT-4.7.1-2], [MQTT-4.7.1-3]). */
export function isValidFilter(filter: string): boolean {
  if (filter === '') return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

/** Does `filter` match the topic name `topic`? Wildcards at the first level skip `$` topics ([MQTT-4.7.2-1]). */
export function matchTopic(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true; // also matches the parent level ([MQTT-4.7.1-2] "sport/#" matches "sport")
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Does an allowed filter `allowed` grant a subscription to `requested`, i.e. is every topic that
 * `requested` can match also matched by `allowed`? A `$` first level needs an explicit grant.
 */
export function filterCovers(allowed: string, requested: string): boolean {
  if (requested.startsWith('$') && (allowed.startsWith('+') || allowed.startsWith('#'))) return false;
  const a = allowed.split('/');
  const r = requested.split('/');
  for (let i = 0; i < a.length; i++) {
    const level = a[i]!;
    if (level === '#') return true;
    if (i >= r.length) return false;
    const want = r[i]!;
    if (want === '#') return false;
    if (level === '+') continue;
    if (want === '+' || want !== level) return false;
  }
  return a.length === r.length;
}

/**
 * Substitutes `%u` (user name) and `%c` (client id) in an ACL pattern. A pattern that needs a
 * value the client does not have, or whose value holds wildcards or `/`, yields null (no grant):
 * a client id of `#` must not turn `sensors/%c/#` into `sensors/#/#`.
 */
export function expandAclPattern(
  pattern: string,
  who: { username?: string; clientId: string },
): string | null {
  if (!pattern.includes('%')) return pattern;
  const unsafe = (v: string) => /[#+/]/.test(v) || v === '';
  if (pattern.includes('%u') && (who.username === undefined || unsafe(who.username))) return null;
  if (pattern.includes('%c') && unsafe(who.clientId)) return null;
  return pattern.replaceAll('%u', who.username ?? '').replaceAll('%c', who.clientId);
}

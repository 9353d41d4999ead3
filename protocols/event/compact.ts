/**
 * `compact`: an event's `fields` (or `device`) built from an object literal whose optional parts
 * may be missing, so an event carries only what the message said instead of `"key": undefined`
 * (which JSON would drop anyway, but the schema and the tests compare objects). Pure.
 */

/**
 * A copy of `fields` without its undefined values; with `dropNull`, without its null values too
 * (syslog's structured data and headers use null for "absent").
 */
export function compact(
  fields: Record<string, unknown>,
  options: { dropNull?: boolean } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const dropNull = options.dropNull === true;
  // for-in over the literal's own keys: Object.entries would make an array per key, per event.
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (value === undefined || (dropNull && value === null)) continue;
    out[key] = value;
  }
  return out;
}

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
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || (options.dropNull && value === null)) continue;
    out[key] = value;
  }
  return out;
}

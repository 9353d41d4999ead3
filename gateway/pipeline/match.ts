/**
 * Which events a stage applies to: a field match (`{ action: modbus.read_*, fields.unit_id: 1 }`,
 * every key must match; a list means any of its values; `*` is a wildcard in strings), or a Sigma
 * detection block (`{ selection: {...}, condition: selection }`) compiled by the same matcher as the
 * rules, so a filter reads like a rule. Paths are dotted Event paths (`src.ip`, `fields.topic`).
 */
import { z } from 'zod';
import type { Event, PendingEvent } from '../../protocols/event/schema.ts';
import { compileDetection } from '../../protocols/sigma/detection.ts';
import { FieldTable } from '../../protocols/sigma/field-access.ts';

export type Predicate = (event: PendingEvent) => boolean;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const fieldMatchSchema = z
  .record(z.string().min(1).max(256), z.union([scalar, z.array(scalar).min(1).max(256)]))
  .describe('Field match: every dotted path must equal one of its values (`*` matches any text).');

export const sigmaMatchSchema = z
  .record(z.string(), z.unknown())
  .refine((d) => typeof d.condition === 'string', 'a Sigma detection needs a `condition`')
  .describe('A Sigma detection block: search identifiers and a `condition`, as in a rule.');

/** The value at a dotted path (`fields.unit_id`, `src.ip`, `device.id`). */
export function valueAt(event: PendingEvent, path: string): unknown {
  const dot = path.indexOf('.');
  if (dot < 0) return (event as Record<string, unknown>)[path];
  const head = (event as Record<string, unknown>)[path.slice(0, dot)];
  if (head === null || typeof head !== 'object') return undefined;
  const rest = path.slice(dot + 1);
  // `fields` may hold dotted keys of its own.
  if (Object.hasOwn(head, rest)) return (head as Record<string, unknown>)[rest];
  let cur: unknown = head;
  for (const part of rest.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function valueTest(expected: string | number | boolean): (v: unknown) => boolean {
  if (typeof expected === 'string' && expected.includes('*')) {
    const re = new RegExp(
      `^${expected
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      's',
    );
    return (v) => v !== undefined && v !== null && re.test(String(v));
  }
  return (v) => v === expected || (v !== undefined && v !== null && String(v) === String(expected));
}

export function fieldMatch(match: z.output<typeof fieldMatchSchema>): Predicate {
  const tests = Object.entries(match).map(([path, expected]) => {
    const any = (Array.isArray(expected) ? expected : [expected]).map(valueTest);
    return (event: PendingEvent) => {
      const v = valueAt(event, path);
      if (Array.isArray(v)) return v.some((x) => any.some((t) => t(x)));
      return any.some((t) => t(v));
    };
  });
  return (event) => tests.every((t) => t(event));
}

/** Compiles a Sigma detection block; throws with the compiler's message (config time only). */
export function sigmaMatch(
  detection: Record<string, unknown>,
  fieldMap: Record<string, string> = {},
): Predicate {
  const { condition, ...searches } = detection;
  const table = new FieldTable(fieldMap);
  const compiled = compileDetection(
    table,
    searches,
    Array.isArray(condition) ? condition.map(String) : [String(condition)],
    { placeholders: {}, keywordFields: ['message'], maxExpansions: 4096 },
    'detection',
  );
  if (!compiled.ok) throw new Error(compiled.error.message);
  const test = compiled.value.test;
  return (event) => {
    table.begin(event as Event);
    return test();
  };
}

/** The predicate of a stage's `match` / `sigma` keys; absent both, every event. */
export function stageMatch(options: {
  match?: z.output<typeof fieldMatchSchema>;
  sigma?: Record<string, unknown>;
}): Predicate {
  const parts: Predicate[] = [];
  if (options.match) parts.push(fieldMatch(options.match));
  if (options.sigma) parts.push(sigmaMatch(options.sigma));
  if (parts.length === 0) return () => true;
  if (parts.length === 1) return parts[0]!;
  return (event) => parts.every((p) => p(event));
}

/** A key of several paths' values, for per-key state. */
export function keyOf(event: PendingEvent, paths: readonly string[]): string {
  if (paths.length === 1) return String(valueAt(event, paths[0]!) ?? '');
  let key = '';
  for (const p of paths) key += `${String(valueAt(event, p) ?? '')}\u0000`;
  return key;
}

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

/** Reads the value at one dotted path of an event (`pathReader`). */
export type PathReader = (event: PendingEvent) => unknown;

/**
 * The value at a dotted path (`fields.unit_id`, `src.ip`, `device.id`), as a function made once:
 * the path is cut into its parts here, not at every event (slicing and splitting it per call was
 * garbage the stages made for every event they looked at).
 */
export function pathReader(path: string): PathReader {
  const dot = path.indexOf('.');
  if (dot < 0) return (event) => (event as Record<string, unknown>)[path];
  const first = path.slice(0, dot);
  const rest = path.slice(dot + 1);
  const parts = rest.split('.');
  return (event) => {
    const head = (event as Record<string, unknown>)[first];
    if (head === null || typeof head !== 'object') return undefined;
    // `fields` may hold dotted keys of its own.
    if (Object.hasOwn(head, rest)) return (head as Record<string, unknown>)[rest];
    let cur: unknown = head;
    for (let i = 0; i < parts.length; i++) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[parts[i]!];
    }
    return cur;
  };
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
  const tests = Object.entries(match).map(([path, expected]) => ({
    read: pathReader(path),
    any: (Array.isArray(expected) ? expected : [expected]).map(valueTest),
  }));
  // Loops, not every/some with arrow functions: those made closures for each event and stage.
  const anyOf = (any: ReadonlyArray<(v: unknown) => boolean>, v: unknown) => {
    for (let i = 0; i < any.length; i++) if (any[i]!(v)) return true;
    return false;
  };
  return (event) => {
    for (let i = 0; i < tests.length; i++) {
      const { read, any } = tests[i]!;
      const v = read(event);
      if (Array.isArray(v)) {
        let hit = false;
        for (let k = 0; k < v.length && !hit; k++) hit = anyOf(any, v[k]);
        if (!hit) return false;
      } else if (!anyOf(any, v)) return false;
    }
    return true;
  };
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

/** The key of several paths' values, for per-key state: made once per stage, with its paths' readers. */
export function keyer(paths: readonly string[]): (event: PendingEvent) => string {
  const readers = paths.map(pathReader);
  if (readers.length === 1) {
    const read = readers[0]!;
    return (event) => String(read(event) ?? '');
  }
  return (event) => {
    let key = '';
    for (let i = 0; i < readers.length; i++) key += `${String(readers[i]!(event) ?? '')}\u0000`;
    return key;
  };
}

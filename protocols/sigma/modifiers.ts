/**
 * Parses and checks a value modifier chain, `Field|mod1|mod2` (rules specification "Value
 * Modifiers", modifiers appendix v2.1.0). The chain is read left to right into one `ModifierChain`
 * describing what the values are (plain Sigma strings, a regex, CIDR ranges, numbers, a field
 * reference, an existence flag) and how they are transformed and combined. Combinations the
 * appendix does not define (`contains|re`, `cidr|base64`, `contains` before `base64`...) are
 * refused with a message naming the modifier, so a rule is never half-applied.
 */
import type { Utf16Mode } from './encodings.ts';
import type { Position } from './sigma-string.ts';
import { fail, ok, type SigmaResult } from './types.ts';

export type ValueKind = 'string' | 're' | 'cidr' | 'compare' | 'exists' | 'fieldref';
export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte';
export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

export interface ModifierChain {
  field: string;
  kind: ValueKind;
  position: Position;
  /** `all`: the values are AND-linked instead of OR-linked. */
  all: boolean;
  cased: boolean;
  /** `neq`: the field must differ from every value. */
  neq: boolean;
  windash: boolean;
  expand: boolean;
  utf16?: Utf16Mode;
  base64?: 'plain' | 'offset';
  compare?: CompareOp;
  /** Time modifiers (v2.1): compare a component of a date field. */
  timePart?: TimePart;
  /** `re` sub-modifiers i, m, s as RegExp flags. */
  reFlags: string;
}

export const KNOWN_MODIFIERS = [
  'all',
  'startswith',
  'endswith',
  'contains',
  'exists',
  'cased',
  'neq',
  'windash',
  're',
  'i',
  'ignorecase',
  'm',
  'multiline',
  's',
  'dotall',
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'utf16',
  'wide',
  'lt',
  'lte',
  'gt',
  'gte',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
  'cidr',
  'expand',
  'fieldref',
] as const;

const RE_FLAGS: Record<string, string> = {
  i: 'i',
  ignorecase: 'i',
  m: 'm',
  multiline: 'm',
  s: 's',
  dotall: 's',
};
const TIME_PARTS = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);

/** Parses `Field|mod1|mod2` (the field may be empty: a keyword search with modifiers). */
export function parseModifierChain(key: string): SigmaResult<ModifierChain> {
  const [field = '', ...mods] = key.split('|');
  const c: ModifierChain = {
    field,
    kind: 'string',
    position: 'exact',
    all: false,
    cased: false,
    neq: false,
    windash: false,
    expand: false,
    reFlags: '',
  };
  const bad = (msg: string) => fail<ModifierChain>('invalid_modifier', `${key}: ${msg}`);
  const setKind = (kind: ValueKind, mod: string) => {
    if (c.kind !== 'string' || c.base64)
      return `'${mod}' cannot be combined with '${c.base64 ? 'base64' : c.kind}'`;
    c.kind = kind;
    return undefined;
  };
  const seen = new Set<string>();
  for (const mod of mods) {
    if (!(KNOWN_MODIFIERS as readonly string[]).includes(mod))
      return fail('unknown_modifier', `${key}: unknown modifier '${mod}'`);
    if (seen.has(mod)) return bad(`'${mod}' is given twice`);
    seen.add(mod);
    let problem: string | undefined;
    if (mod === 'all') c.all = true;
    else if (mod === 'cased') c.cased = true;
    else if (mod === 'neq') c.neq = true;
    else if (mod === 'startswith' || mod === 'endswith' || mod === 'contains') {
      if (c.position !== 'exact') problem = `'${mod}' cannot follow '${c.position}'`;
      else if (c.kind !== 'string' && c.kind !== 'fieldref' && c.kind !== 're')
        problem = `'${mod}' cannot be applied to '${c.kind}'`;
      else c.position = mod;
    } else if (mod === 'windash') {
      // pySigma applies it to the value as it stands: after `contains` (SigmaHQ writes
      // `CommandLine|contains|windash`) as well as before; not to encoded text.
      if (c.base64 || c.utf16) problem = "'windash' must come before the encoding modifiers";
      c.windash = true;
    } else if (mod === 'expand') {
      // Placeholders are replaced in the plain value, so any order before an encoding is the same.
      if (c.base64 || c.utf16) problem = "'expand' must come before the encoding modifiers";
      c.expand = true;
    } else if (mod === 'utf16le' || mod === 'wide' || mod === 'utf16be' || mod === 'utf16') {
      if (c.utf16) problem = 'only one UTF-16 modifier may be given';
      else if (c.base64 || c.position !== 'exact')
        problem = `'${mod}' must come before base64 and position modifiers`;
      c.utf16 = mod === 'utf16be' ? 'be' : mod === 'utf16' ? 'bom' : 'le';
    } else if (mod === 'base64' || mod === 'base64offset') {
      if (c.base64) problem = 'only one base64 modifier may be given';
      else if (c.position !== 'exact') problem = `'${mod}' must come before '${c.position}'`;
      else if (c.kind !== 'string') problem = `'${mod}' cannot be combined with '${c.kind}'`;
      c.base64 = mod === 'base64' ? 'plain' : 'offset';
    } else if (mod === 're' || mod === 'cidr') {
      // pySigma: "only applicable to unmodified values" (`re|contains` anchors; `contains|re` no).
      if (seen.size > 1) problem = `'${mod}' must be the first modifier`;
      else problem = setKind(mod, mod);
    } else if (mod in RE_FLAGS) {
      if (c.kind !== 're') problem = `'${mod}' is a sub-modifier of 're' and must follow it`;
      else c.reFlags += RE_FLAGS[mod];
    } else if (mod === 'exists') problem = setKind('exists', mod);
    else if (mod === 'fieldref') problem = setKind('fieldref', mod);
    else if (mod === 'lt' || mod === 'lte' || mod === 'gt' || mod === 'gte') {
      if (c.compare) problem = `'${mod}' cannot follow '${c.compare}'`;
      else if (c.kind !== 'string' && c.kind !== 'compare')
        problem = `'${mod}' cannot be combined with '${c.kind}'`;
      else if (c.base64 || c.utf16 || c.windash || c.position !== 'exact')
        problem = `'${mod}' compares numbers and cannot follow string modifiers`;
      else {
        c.kind = 'compare';
        c.compare = mod;
      }
    } else if (TIME_PARTS.has(mod)) {
      if (c.timePart) problem = `'${mod}' cannot follow '${c.timePart}'`;
      else if (c.kind !== 'string' || c.position !== 'exact' || c.base64)
        problem = `'${mod}' cannot be combined with the modifiers before it`;
      else {
        c.kind = 'compare';
        c.timePart = mod as TimePart;
      }
    }
    if (problem) return bad(problem);
  }
  // Cross-checks that only make sense once the whole chain is known.
  if (c.kind === 'compare' && c.position !== 'exact')
    return bad('numeric comparisons take no position modifier');
  if (
    (c.kind === 're' || c.kind === 'cidr' || c.kind === 'exists' || c.kind === 'compare') &&
    (c.windash || c.expand || c.utf16)
  )
    return bad(`'${c.kind === 'compare' ? 'lt/gt' : c.kind}' cannot be combined with string transformations`);
  if ((c.kind === 'cidr' || c.kind === 'exists') && (c.cased || c.neq || c.all))
    return bad(`'${c.kind}' cannot be combined with 'cased', 'neq' or 'all'`);
  // `re|startswith` and `re|endswith` anchor the expression (pySigma); `re|contains` is `re`.
  if (c.kind === 're' && (c.base64 || c.neq))
    return bad("'re' cannot be combined with encoding or 'neq' modifiers");
  if (c.kind === 'compare' && c.neq && c.compare) return bad("'neq' cannot be combined with 'lt/lte/gt/gte'");
  return ok(c);
}

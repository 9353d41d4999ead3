/**
 * Checks one parsed YAML document against the Sigma rule, correlation and filter specifications
 * (and their JSON schemas in sigma-specification/json-schema) and turns it into a typed
 * `SigmaRule`, `SigmaCorrelationRule` or `SigmaFilter`. Unknown attributes are kept out of the
 * result but allowed (rules specification "File Structure": arbitrary custom fields). Every
 * problem is a typed error naming the attribute; nothing here throws.
 */
import {
  CORRELATION_TYPES,
  type CorrelationCondition,
  type CorrelationType,
  fail,
  ok,
  SIGMA_LEVELS,
  SIGMA_STATUSES,
  type SigmaCorrelationRule,
  type SigmaDocument,
  type SigmaFilter,
  type SigmaMeta,
  type SigmaResult,
  type SigmaRule,
} from './types.ts';

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v);

class Invalid {
  constructor(
    readonly path: string,
    readonly message: string,
  ) {}
}

function str(doc: Doc, key: string, required = false, max = 65_535): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null) {
    if (required) throw new Invalid(key, `'${key}' is required`);
    return undefined;
  }
  // YAML reads `date: 2024-01-01` as a date and bare numbers as numbers; both are fine as text.
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString().slice(0, 10);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v !== 'string') throw new Invalid(key, `'${key}' must be a string`);
  if (v.length > max) throw new Invalid(key, `'${key}' is longer than ${max} characters`);
  return v;
}

function strList(doc: Doc, key: string): string[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw new Invalid(key, `'${key}' must be a list of strings`);
  return v.map((x, i) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' || typeof x === 'boolean') return String(x);
    throw new Invalid(`${key}[${i}]`, `'${key}' must hold strings`);
  });
}

function oneOf<T extends string>(doc: Doc, key: string, allowed: readonly T[]): T | undefined {
  const v = str(doc, key);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new Invalid(key, `'${key}' must be one of ${allowed.join(', ')}, not '${v}'`);
  return v as T;
}

function meta(doc: Doc): SigmaMeta {
  const tags = strList(doc, 'tags');
  for (const t of tags)
    if (!/^[a-z0-9_-]+\.[a-z0-9._-]+$/i.test(t))
      throw new Invalid('tags', `tag '${t}' is not 'namespace.value' (rules specification "Tags")`);
  const m: SigmaMeta = {
    title: str(doc, 'title', true, 256)!,
    references: strList(doc, 'references'),
    tags,
    falsepositives: strList(doc, 'falsepositives'),
  };
  const opt = {
    id: str(doc, 'id', false, 256),
    name: str(doc, 'name', false, 256),
    status: oneOf(doc, 'status', SIGMA_STATUSES),
    description: str(doc, 'description'),
    author: str(doc, 'author'),
    date: str(doc, 'date'),
    modified: str(doc, 'modified'),
    taxonomy: str(doc, 'taxonomy', false, 256),
    level: oneOf(doc, 'level', SIGMA_LEVELS),
  };
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (m as unknown as Doc)[k] = v;
  return m;
}

function logsource(doc: Doc): SigmaRule['logsource'] {
  const ls = doc.logsource;
  if (!isMap(ls)) throw new Invalid('logsource', "'logsource' is required and must be a map");
  const out: SigmaRule['logsource'] = {};
  for (const k of ['category', 'product', 'service', 'definition'] as const) {
    const v = str(ls, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Splits `condition` (a string or a list of strings) from the search identifiers. */
function detectionOf(section: unknown, where: string): { detection: Doc; condition: string[] } {
  if (!isMap(section))
    throw new Invalid(where, `'${where}' must be a map of search identifiers and a condition`);
  const { condition, ...rest } = section;
  const conds = typeof condition === 'string' ? [condition] : condition;
  if (!Array.isArray(conds) || conds.length === 0 || conds.some((c) => typeof c !== 'string'))
    throw new Invalid(
      `${where}.condition`,
      `'${where}.condition' is required: a string or a list of strings`,
    );
  if (Object.keys(rest).length === 0) throw new Invalid(where, `'${where}' defines no search identifier`);
  return { detection: rest, condition: conds as string[] };
}

function rule(doc: Doc): SigmaRule {
  const { detection, condition } = detectionOf(doc.detection, 'detection');
  const related = doc.related;
  const rel: SigmaRule['related'] = [];
  if (related !== undefined && related !== null) {
    if (!Array.isArray(related)) throw new Invalid('related', "'related' must be a list of {id, type}");
    for (const r of related) if (isMap(r)) rel.push({ id: String(r.id ?? ''), type: String(r.type ?? '') });
  }
  return {
    kind: 'rule',
    ...meta(doc),
    logsource: logsource(doc),
    detection,
    condition,
    fields: strList(doc, 'fields'),
    related: rel,
    scope: strList(doc, 'scope'),
  };
}

/** Correlation specification "Time Selection": a number and a lower-case unit s, m, h or d. */
export function parseTimespan(text: unknown): number | undefined {
  const m = typeof text === 'string' ? /^([1-9]\d{0,5})([smhdw])$/.exec(text.trim()) : null;
  if (!m) return undefined;
  const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

const NEEDS_FIELD: ReadonlySet<CorrelationType> = new Set([
  'value_count',
  'value_sum',
  'value_avg',
  'value_percentile',
]);

function correlation(doc: Doc): SigmaCorrelationRule {
  const c = doc.correlation;
  if (!isMap(c)) throw new Invalid('correlation', "'correlation' must be a map");
  const type = oneOf(c, 'type', CORRELATION_TYPES);
  if (!type) throw new Invalid('correlation.type', "'correlation.type' is required");
  const rules = strList(c, 'rules');
  if (rules.length === 0)
    throw new Invalid('correlation.rules', "'correlation.rules' must name at least one rule");
  if (new Set(rules).size !== rules.length)
    throw new Invalid('correlation.rules', "'correlation.rules' names a rule twice");
  const groupBy = strList(c, 'group-by');
  const timespan = str(c, 'timespan', true) ?? '';
  const timespanMs = parseTimespan(timespan);
  if (timespanMs === undefined)
    throw new Invalid(
      'correlation.timespan',
      `'correlation.timespan' must be a number and s, m, h, d or w, not '${timespan}'`,
    );
  let condition: CorrelationCondition | undefined;
  if (c.condition !== undefined && c.condition !== null) {
    if (!isMap(c.condition))
      throw new Invalid('correlation.condition', "'correlation.condition' must be a map");
    condition = {};
    for (const [k, v] of Object.entries(c.condition)) {
      if (k === 'field') {
        if (typeof v !== 'string' || v === '')
          throw new Invalid('correlation.condition.field', "'condition.field' must be one field name");
        condition.field = v;
      } else if (k === 'gt' || k === 'gte' || k === 'lt' || k === 'lte' || k === 'eq' || k === 'neq') {
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new Invalid(`correlation.condition.${k}`, `'condition.${k}' must be a number`);
        condition[k] = v;
      } else throw new Invalid(`correlation.condition.${k}`, `unknown condition operator '${k}'`);
    }
    if (Object.keys(condition).filter((k) => k !== 'field').length === 0)
      throw new Invalid(
        'correlation.condition',
        "'correlation.condition' needs one of gt, gte, lt, lte, eq, neq",
      );
  }
  if ((type === 'event_count' || NEEDS_FIELD.has(type)) && !condition)
    throw new Invalid('correlation.condition', `a ${type} correlation needs a condition`);
  if (NEEDS_FIELD.has(type) && !condition?.field)
    throw new Invalid('correlation.condition.field', `a ${type} correlation needs 'condition.field'`);
  const aliases: SigmaCorrelationRule['aliases'] = {};
  if (c.aliases !== undefined && c.aliases !== null) {
    if (!isMap(c.aliases)) throw new Invalid('correlation.aliases', "'aliases' must be a map");
    for (const [alias, map] of Object.entries(c.aliases)) {
      if (!isMap(map) || Object.values(map).some((f) => typeof f !== 'string'))
        throw new Invalid(
          `correlation.aliases.${alias}`,
          `alias '${alias}' must map rule names to field names`,
        );
      aliases[alias] = map as Record<string, string>;
    }
  }
  const generate = doc.generate ?? c.generate ?? false;
  if (typeof generate !== 'boolean') throw new Invalid('generate', "'generate' must be true or false");
  const out: SigmaCorrelationRule = {
    kind: 'correlation',
    ...meta(doc),
    type,
    rules,
    groupBy,
    timespan,
    timespanMs,
    aliases,
    generate,
  };
  if (condition) out.condition = condition;
  return out;
}

function filter(doc: Doc): SigmaFilter {
  const f = doc.filter;
  if (!isMap(f)) throw new Invalid('filter', "'filter' must be a map");
  const rules = strList(f, 'rules');
  if (rules.length === 0) throw new Invalid('filter.rules', "'filter.rules' must name at least one rule");
  const { rules: _r, ...section } = f;
  const { detection, condition } = detectionOf(section, 'filter');
  return { kind: 'filter', ...meta(doc), logsource: logsource(doc), rules, detection, condition };
}

/** Validates one document: a correlation if it has `correlation`, a filter if `filter`, else a rule. */
export function validateDocument(doc: unknown): SigmaResult<SigmaDocument> {
  if (!isMap(doc)) return fail('not_a_rule', 'a Sigma document is a map of attributes');
  try {
    if ('correlation' in doc) return ok(correlation(doc));
    if ('filter' in doc && !('detection' in doc)) return ok(filter(doc));
    if (!('detection' in doc) && !('logsource' in doc) && !('title' in doc))
      return fail('not_a_rule', 'the document has none of detection, correlation or filter');
    return ok(rule(doc));
  } catch (error) {
    if (error instanceof Invalid) {
      const label =
        typeof doc.id === 'string' ? doc.id : typeof doc.title === 'string' ? doc.title : undefined;
      const code = error.path.startsWith('correlation')
        ? 'invalid_correlation'
        : error.path.startsWith('detection')
          ? 'invalid_detection'
          : 'invalid_field';
      return fail(code, `${label ? `${label}: ` : ''}${error.message}`, {
        path: error.path,
        ...(label ? { rule: label } : {}),
      });
    }
    return fail('invalid_field', `unexpected problem: ${String(error)}`);
  }
}

/**
 * Reads Sigma YAML text into validated documents: one rule, or a multi-document file holding
 * rules, correlations (correlation specification: "YAML's multi document feature") and filters,
 * including the rule collection actions of Sigma 1.0 ("Rule Collections": `action: global` merges
 * its attributes into every following document, `action: reset` forgets them, `action: repeat`
 * repeats the previous document with its own attributes merged over it). Each bad document gives
 * a typed error and the good ones still load; nothing throws.
 */
import { parseAllDocuments } from 'yaml';
import type { SigmaCorrelationRule, SigmaDocument, SigmaError, SigmaFilter, SigmaRule } from './types.ts';
import { validateDocument } from './validate.ts';

export interface SigmaLoadResult {
  rules: SigmaRule[];
  correlations: SigmaCorrelationRule[];
  filters: SigmaFilter[];
  errors: SigmaError[];
  /** With `keepRaw`: each accepted document as a map, collection actions applied (rule stores). */
  raw?: Array<{ document: SigmaDocument; map: Record<string, unknown> }>;
}

export interface SigmaLoadOptions {
  /** Largest accepted text (default 4 MiB): a bound for untrusted input such as pushed rule sets. */
  maxBytes?: number;
  /** Named in error messages, e.g. the file name. */
  source?: string;
  /** Also return each accepted document as a plain map (`raw`), to store rules one by one. */
  keepRaw?: boolean;
}

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep merge for collection actions: maps merge key by key, anything else is replaced. */
function merge(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? merge(b, v) : v;
  }
  return out;
}

/** Parses YAML text into the Sigma documents it holds. */
export function loadSigma(text: string, options: SigmaLoadOptions = {}): SigmaLoadResult {
  const result: SigmaLoadResult = { rules: [], correlations: [], filters: [], errors: [] };
  const where = options.source ? `${options.source}: ` : '';
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  if (typeof text !== 'string') {
    result.errors.push({ code: 'yaml', message: `${where}input is not text` });
    return result;
  }
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    result.errors.push({ code: 'limit', message: `${where}rule text is larger than ${maxBytes} bytes` });
    return result;
  }
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    result.errors.push({ code: 'yaml', message: `${where}${(error as Error).message}` });
    return result;
  }
  if (!Array.isArray(docs)) docs = [docs];
  let global: Doc | undefined;
  let previous: Doc | undefined;
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      result.errors.push({
        code: 'yaml',
        message: `${where}document ${index + 1}: ${e.message.split('\n')[0]}`,
        document: index,
      });
      return;
    }
    let value: unknown;
    try {
      // maxAliasCount bounds "billion laughs" alias expansion.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      result.errors.push({
        code: 'yaml',
        message: `${where}document ${index + 1}: ${(error as Error).message}`,
        document: index,
      });
      return;
    }
    if (value === null || value === undefined) return; // an empty document, e.g. a trailing `---`
    if (!isMap(value)) {
      result.errors.push({
        code: 'not_a_rule',
        message: `${where}document ${index + 1} is not a map`,
        document: index,
      });
      return;
    }
    const { action, ...rest } = value;
    if (action === 'global') {
      global = global ? merge(global, rest) : rest;
      return;
    }
    if (action === 'reset') {
      global = undefined;
      previous = undefined;
      return;
    }
    let full: Doc;
    if (action === 'repeat') {
      if (!previous) {
        result.errors.push({
          code: 'not_a_rule',
          message: `${where}document ${index + 1}: 'action: repeat' with no document before it`,
          document: index,
        });
        return;
      }
      full = merge(previous, rest);
    } else if (action !== undefined) {
      result.errors.push({
        code: 'not_a_rule',
        message: `${where}document ${index + 1}: unknown action '${String(action)}'`,
        document: index,
      });
      return;
    } else full = global ? merge(global, rest) : rest;
    previous = full;
    const v = validateDocument(full);
    if (!v.ok) {
      result.errors.push({ ...v.error, message: `${where}${v.error.message}`, document: index });
      return;
    }
    push(result, v.value);
    if (options.keepRaw) (result.raw ??= []).push({ document: v.value, map: full });
  });
  return result;
}

function push(result: SigmaLoadResult, d: SigmaDocument): void {
  if (d.kind === 'rule') result.rules.push(d);
  else if (d.kind === 'correlation') result.correlations.push(d);
  else result.filters.push(d);
}

/** Concatenates load results (e.g. of every file in a rule directory). */
export function mergeLoadResults(results: readonly SigmaLoadResult[]): SigmaLoadResult {
  const out: SigmaLoadResult = { rules: [], correlations: [], filters: [], errors: [] };
  for (const r of results) {
    out.rules.push(...r.rules);
    out.correlations.push(...r.correlations);
    out.filters.push(...r.filters);
    out.errors.push(...r.errors);
  }
  return out;
}

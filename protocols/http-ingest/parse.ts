/**
 * The HTTP ingest body formats (POST /api/ingest and the Elasticsearch `_bulk` shape), shared by
 * the gateway and central. A body is a JSON array (of event objects or strings), NDJSON (one
 * object or one JSON string per line), or plain lines; `_bulk` is NDJSON where each
 * `index`/`create` action line is followed by its document (Fluent Bit's es output, Vector's
 * elasticsearch sink, Logstash and Beats all send this; `delete` has no document, `update` one
 * that is refused). Pure: never throws; a bad line is counted with its line number and reason,
 * and the good ones still go.
 */

export type IngestItem = { kind: 'object'; value: Record<string, unknown> } | { kind: 'line'; text: string };

export interface IngestProblem {
  /** 1-based line of the body (0 for a JSON array: `index` is then the array index). */
  line: number;
  index?: number;
  error: string;
}

export interface ParsedBody {
  items: IngestItem[];
  problems: IngestProblem[];
  /** `_bulk`: the action of each item, in order (for an Elasticsearch-shaped answer). */
  actions?: Array<'index' | 'create'>;
}

export interface ParseOptions {
  /** The `_bulk` path: action lines and documents. */
  bulk?: boolean;
  /** Items taken from one body at most; the rest are problems (`too_many_items`). */
  maxItems: number;
  /** Longest line (or array string) in characters; longer ones are problems. */
  maxItemChars: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function tryJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: `invalid JSON: ${(error as Error).message.slice(0, 120)}` };
  }
}

export function parseIngestBody(text: string, options: ParseOptions): ParsedBody {
  const items: IngestItem[] = [];
  const problems: IngestProblem[] = [];
  const trimmed = text.trimStart();
  const add = (item: IngestItem, where: IngestProblem) => {
    if (items.length >= options.maxItems) problems.push({ ...where, error: 'too_many_items' });
    else items.push(item);
  };

  if (!options.bulk && trimmed.startsWith('[')) {
    const parsed = tryJson(trimmed);
    if (!parsed.ok || !Array.isArray(parsed.value)) {
      problems.push({ line: 1, error: parsed.ok ? 'not an array' : parsed.error });
      return { items, problems };
    }
    parsed.value.forEach((v, index) => {
      if (isObject(v)) add({ kind: 'object', value: v }, { line: 0, index, error: '' });
      else if (typeof v === 'string' && v.length <= options.maxItemChars)
        add({ kind: 'line', text: v }, { line: 0, index, error: '' });
      else
        problems.push({
          line: 0,
          index,
          error: typeof v === 'string' ? 'too_long' : 'not an object or string',
        });
    });
    return { items, problems };
  }

  const actions: Array<'index' | 'create'> = [];
  let expectDoc: 'index' | 'create' | undefined;
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      if (end === text.length) break;
      continue;
    }
    const where = { line: lineNo, error: '' };
    if (line.length > options.maxItemChars) {
      problems.push({ line: lineNo, error: 'too_long' });
      expectDoc = undefined;
      continue;
    }
    if (options.bulk) {
      const parsed = tryJson(line);
      if (!parsed.ok || !isObject(parsed.value)) {
        problems.push({ line: lineNo, error: parsed.ok ? 'not an object' : parsed.error });
        expectDoc = undefined;
        continue;
      }
      if (expectDoc) {
        const action = expectDoc;
        expectDoc = undefined;
        if (items.length < options.maxItems) actions.push(action);
        add({ kind: 'object', value: parsed.value }, where);
        continue;
      }
      const keys = Object.keys(parsed.value);
      const action = keys.length === 1 ? keys[0]! : '';
      if (action === 'index' || action === 'create') expectDoc = action;
      else if (action === 'delete') problems.push({ line: lineNo, error: 'delete is not supported' });
      else if (action === 'update') {
        problems.push({ line: lineNo, error: 'update is not supported' });
        start = skipLine(text, start);
        lineNo++;
      } else problems.push({ line: lineNo, error: 'expected an action line (index or create)' });
      continue;
    }
    const first = line.trimStart()[0];
    if (first === '{' || first === '"') {
      const parsed = tryJson(line);
      if (parsed.ok && isObject(parsed.value)) add({ kind: 'object', value: parsed.value }, where);
      else if (parsed.ok && typeof parsed.value === 'string')
        add({ kind: 'line', text: parsed.value }, where);
      else if (first === '{')
        problems.push({ line: lineNo, error: parsed.ok ? 'not an object' : parsed.error });
      else add({ kind: 'line', text: line }, where);
    } else add({ kind: 'line', text: line }, where);
  }
  if (expectDoc) problems.push({ line: lineNo, error: 'action line without its document' });
  return options.bulk ? { items, problems, actions } : { items, problems };
}

function skipLine(text: string, from: number): number {
  const end = text.indexOf('\n', from);
  return end < 0 ? text.length + 1 : end + 1;
}

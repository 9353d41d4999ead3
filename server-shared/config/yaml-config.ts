/**
 * Reading a YAML config file against a strict zod schema, shared by siem-gateway and
 * siem-central. Errors come back as text a person can act on (file, key path, what is wrong),
 * never as a stack trace. Precedence: schema defaults < file < environment < flags; the caller
 * passes the environment and flag overrides as dotted paths.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';

export type ConfigResult<T> = { ok: true; config: T } | { ok: false; errors: string[] };

/** A value to place at a dotted path (`central.endpoint`) on top of the file's content. */
export type ConfigOverride = { path: string; value: unknown };

export function loadYamlConfig<S extends z.ZodType>(
  file: string,
  schema: S,
  overrides: ConfigOverride[] = [],
): ConfigResult<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, errors: [`${file}: cannot read the file (${code ?? String(error)})`] };
  }
  return parseYamlConfig(text, schema, overrides, file);
}

export function parseYamlConfig<S extends z.ZodType>(
  text: string,
  schema: S,
  overrides: ConfigOverride[] = [],
  file = '<config>',
): ConfigResult<z.output<S>> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `${file}: YAML syntax: ${e.message.split('\n')[0]}`) };
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [`${file}: the top level must be a mapping of keys`] };
  }
  for (const { path, value } of overrides) setPath(raw as Record<string, unknown>, path.split('.'), value);
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, errors: result.error.issues.map((issue) => `${file}: ${describeIssue(issue)}`) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (at === '(top level)' ? k : `${at}.${k}`));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${at}: required key is missing`;
  return `${at}: ${issue.message}`;
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  const [head, ...rest] = keys;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const next = target[head];
  const child = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : {};
  target[head] = child;
  setPath(child, rest, value);
}

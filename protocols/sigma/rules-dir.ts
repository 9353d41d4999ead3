/**
 * Loading rule directories: every `*.yml`/`*.yaml` under the given directories (recursively),
 * merged into one engine. A thin I/O adapter over the pure loader, shared by the gateway (edge
 * rules) and central (cross-gateway rules). Unreadable directories and refused rules are reported,
 * never thrown: the rest still runs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { EventSource } from '../event/schema.ts';
import { createSigmaEngine, type SigmaEngine } from './engine.ts';
import { loadSigma, mergeLoadResults } from './load.ts';
import type { SigmaError } from './types.ts';

export interface RuleDirectoryOptions {
  rulesDirs: readonly string[];
  fieldMap?: Record<string, string>;
  logsources?: Record<string, EventSource[]>;
  alertWindowMs?: number;
  /** Values of `expand` placeholders (`%engineering_stations%`), from the site's configuration. */
  placeholders?: Record<string, string[]>;
}

export interface LoadedRules {
  engine: SigmaEngine;
  files: string[];
  /** Rules and files refused, each with the reason. */
  errors: Array<{ file?: string; message: string }>;
}

const RULE_FILE = /\.ya?ml$/i;

/** The gateway's and central's own events (new devices, evictions, refusals) have logsources too. */
export const RULE_SET_LOGSOURCES: Record<string, EventSource[]> = {
  'product:gateway': ['gateway'],
  'product:central': ['central'],
};

function ruleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...ruleFiles(full));
    else if (RULE_FILE.test(entry.name)) out.push(full);
  }
  return out.sort();
}

/** The text of every rule file under the directories, in path order (a rule set's documents). */
export function readRuleDirectories(rulesDirs: readonly string[]): {
  files: string[];
  documents: string[];
  errors: LoadedRules['errors'];
} {
  const errors: LoadedRules['errors'] = [];
  const files: string[] = [];
  for (const dir of rulesDirs) {
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      files.push(...ruleFiles(dir));
    } catch (error) {
      errors.push({ file: dir, message: `cannot read rules directory: ${(error as Error).message}` });
    }
  }
  const documents: string[] = [];
  const readable: string[] = [];
  for (const file of files) {
    try {
      documents.push(readFileSync(file, 'utf8'));
      readable.push(file);
    } catch (error) {
      errors.push({ file, message: `cannot read rule file: ${(error as Error).message}` });
    }
  }
  return { files: readable, documents, errors };
}

export function loadRuleDirectories(options: RuleDirectoryOptions): LoadedRules {
  const read = readRuleDirectories(options.rulesDirs);
  const built = buildRuleSet(read.documents, options, read.files);
  return { ...built, files: read.files, errors: [...read.errors, ...built.errors] };
}

/**
 * One engine from Sigma YAML texts (a rule directory's files, or a rule set pushed over the
 * link). `sources` name each text in error messages. Every refusal is listed in `errors`.
 */
export function buildRuleSet(
  documents: readonly string[],
  options: Omit<RuleDirectoryOptions, 'rulesDirs'>,
  sources: readonly string[] = [],
): LoadedRules {
  const errors: LoadedRules['errors'] = [];
  const files = documents.map((_, i) => sources[i] ?? `document ${i + 1}`);
  const merged = mergeLoadResults(documents.map((text, i) => loadSigma(text, { source: files[i] })));
  const engine = createSigmaEngine(merged, {
    fieldMap: options.fieldMap,
    logsources: { ...RULE_SET_LOGSOURCES, ...options.logsources },
    alertWindowMs: options.alertWindowMs,
    placeholders: options.placeholders,
  });
  const describe = (e: SigmaError) => ({
    file: e.document !== undefined ? String(e.document) : undefined,
    message: `${e.rule ? `${e.rule}: ` : ''}${e.message}`,
  });
  errors.push(...merged.errors.map(describe), ...engine.errors.map(describe));
  return { engine, files, errors };
}

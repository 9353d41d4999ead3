/**
 * The gateway's running rule set, managed: at start the set central last pushed (persisted in the
 * data dir), else the Sigma files of `detection.rules_dirs`; a set pushed over the link (link
 * SPEC §8) is checked, compiled whole and swapped in atomically, or refused with the reason while
 * the old set keeps running. Open correlation windows survive both a swap (for unchanged
 * correlations) and a restart: they are saved periodically and on stop, bounded, and restored at
 * start (Sigma SPEC.md "Restarts"), so a brute force in progress is not forgotten.
 * The pipeline holds `engine`, a stable facade over whichever set runs now.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type RulesMessage, type RulesStatusMessage, ruleSetVersion } from '../../protocols/link/codec.ts';
import type { SigmaEngine } from '../../protocols/sigma/index.ts';
import {
  buildRuleSet,
  type LoadedRules,
  readRuleDirectories,
  type RuleDirectoryOptions,
} from '../../protocols/sigma/rules-dir.ts';

export interface ManagedDetectionOptions extends RuleDirectoryOptions {
  dataDir: string;
  logger: Logger;
  /** How often open correlation windows are saved (default 30 s; they are also saved on close). */
  stateIntervalMs?: number;
  /** Groups saved per correlation, the most recent (default 1,000). */
  maxSavedGroups?: number;
  /** Called whenever the running set changes (metrics). */
  onChange?: (set: RunningRuleSet) => void;
}

export interface RunningRuleSet {
  /** `local` for the rule directories, else the id central gave the set. */
  id: string;
  version: string;
  source: 'local' | 'central';
  /** Rules and correlations running. */
  rules: number;
  /** Refused documents of a local set (a pushed set with any refusal is refused whole). */
  errors: LoadedRules['errors'];
}

interface Running extends RunningRuleSet {
  engine: SigmaEngine;
}

/** Largest saved correlation state; beyond, it is not written (logged) rather than filling the disk. */
const MAX_STATE_BYTES = 32 * 1024 * 1024;

export function createManagedDetection(options: ManagedDetectionOptions) {
  const { logger } = options;
  const dir = path.join(options.dataDir, 'rules');
  const setFile = path.join(dir, 'active.json');
  const stateFile = path.join(dir, 'correlation-state.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const build = (documents: string[], id: string, source: Running['source'], sources?: string[]): Running => {
    const loaded = buildRuleSet(documents, options, sources);
    return {
      id,
      source,
      version: ruleSetVersion(documents),
      rules: loaded.engine.ruleSet.rules.length + loaded.engine.correlations.length,
      errors: loaded.errors,
      engine: loaded.engine,
    };
  };

  const fromDirs = (): Running => {
    const read = readRuleDirectories(options.rulesDirs);
    const running = build(read.documents, 'local', 'local', read.files);
    running.errors.unshift(...read.errors);
    return running;
  };

  /** The set central pushed last, if one was saved and still compiles whole. */
  const fromSaved = (): Running | undefined => {
    if (!existsSync(setFile)) return undefined;
    try {
      const saved = JSON.parse(readFileSync(setFile, 'utf8')) as Partial<RulesMessage>;
      const documents = saved.documents;
      if (!Array.isArray(documents) || !documents.every((d) => typeof d === 'string'))
        throw new Error('no documents');
      const running = build(documents, String(saved.id), 'central');
      if (running.version !== saved.version) throw new Error('its version does not match its documents');
      if (running.errors.length > 0) throw new Error(running.errors[0]!.message);
      return running;
    } catch (error) {
      logger.error(
        { err: (error as Error).message },
        'the saved rule set from central cannot run; using the local rules until central sends another',
      );
      return undefined;
    }
  };

  let current = fromSaved() ?? fromDirs();
  for (const e of current.errors) logger.warn({ file: e.file }, 'rule refused: %s', e.message);

  const describe = (r: Running): RunningRuleSet => ({
    id: r.id,
    version: r.version,
    source: r.source,
    rules: r.rules,
    errors: r.errors,
  });

  // Windows open at the last stop (or crash, up to one save interval) are reopened.
  if (existsSync(stateFile)) {
    try {
      const { restored, skipped } = current.engine.restore(JSON.parse(readFileSync(stateFile, 'utf8')));
      if (restored + skipped > 0) logger.info({ restored, skipped }, 'correlation windows restored');
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'saved correlation windows unreadable; starting empty');
    }
  }
  options.onChange?.(describe(current));

  const saveState = (): void => {
    try {
      const text = JSON.stringify(current.engine.snapshot(options.maxSavedGroups ?? 1000));
      if (text.length > MAX_STATE_BYTES) {
        logger.warn({ bytes: text.length }, 'correlation windows too large to save; not saved');
        return;
      }
      writeFileSync(`${stateFile}.tmp`, text, { mode: 0o600 });
      renameSync(`${stateFile}.tmp`, stateFile);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'could not save the correlation windows');
    }
  };
  const timer = setInterval(saveState, options.stateIntervalMs ?? 30_000);
  timer.unref();

  /** A stable engine for the pipeline: every call goes to the set running now. */
  const engine: SigmaEngine = {
    get ruleSet() {
      return current.engine.ruleSet;
    },
    get errors() {
      return current.engine.errors;
    },
    get correlations() {
      return current.engine.correlations;
    },
    process: (event, nowMs) => current.engine.process(event, nowMs),
    advance: (nowMs) => current.engine.advance(nowMs),
    flush: () => current.engine.flush(),
    snapshot: (max) => current.engine.snapshot(max),
    restore: (snapshot) => current.engine.restore(snapshot),
    carryOver: (previous) => current.engine.carryOver(previous),
    stats: () => current.engine.stats(),
  };

  return {
    engine,
    running: (): RunningRuleSet => describe(current),

    /** Link SPEC §8.3: check, compile whole, persist, swap; or refuse and keep the old set. */
    apply(message: RulesMessage): RulesStatusMessage {
      const refuse = (error: string): RulesStatusMessage => {
        logger.warn({ set: message.id, version: message.version }, 'rule set refused: %s', error);
        return {
          type: 'rules_status',
          id: current.id,
          version: current.version,
          requested: message.version,
          ok: false,
          rules: current.rules,
          error: error.slice(0, 4096),
        };
      };
      if (ruleSetVersion(message.documents) !== message.version)
        return refuse('the version does not match the documents (expected their sha256)');
      const next = build(message.documents, message.id, 'central');
      if (next.errors.length > 0) {
        const shown = next.errors.slice(0, 20).map((e) => e.message);
        const more =
          next.errors.length > shown.length ? ` (and ${next.errors.length - shown.length} more)` : '';
        return refuse(`${next.errors.length} refused: ${shown.join('; ')}${more}`);
      }
      try {
        writeFileSync(
          `${setFile}.tmp`,
          JSON.stringify({ id: message.id, version: message.version, documents: message.documents }),
          { mode: 0o600 },
        );
        renameSync(`${setFile}.tmp`, setFile);
      } catch (error) {
        return refuse(`cannot save the rule set: ${(error as Error).message}`);
      }
      // Open windows of unchanged correlations carry over to the new set.
      const carried = next.engine.carryOver(current.engine);
      current = next;
      logger.info(
        { set: next.id, version: next.version, rules: next.rules, windows: carried.restored },
        'rule set from central now running',
      );
      options.onChange?.(describe(current));
      return {
        type: 'rules_status',
        id: next.id,
        version: next.version,
        requested: message.version,
        ok: true,
        rules: next.rules,
      };
    },

    saveState,
    close(): void {
      clearInterval(timer);
      saveState();
    },
  };
}

export type ManagedDetection = ReturnType<typeof createManagedDetection>;

/**
 * Central's rule store (migration 009): the Sigma rules central manages, one row per document,
 * each for the edge (pushed to gateways) or for central's own engine; seeded from the shipped
 * rule directories (rules/ics for the edge, `detection.rules_dirs` for central) without
 * overwriting what an operator enabled, disabled or uploaded. Every change is checked by compiling
 * the whole set it would produce, so an enabled set always loads; a refusal names the rule, the
 * field and why. Rule sets are built here for the link (SPEC §8: id, content-hash version, the
 * documents), assigned per gateway so that offline gateways get them on reconnect, and what each
 * gateway reports running is recorded. A write of the rules table is announced (store/table-changes.ts):
 * central's detection, here and on every other node, reloads its rules on the notice.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type * as Api from '../../protocols/api/central.ts';
import { type RulesMessage, ruleSetVersion } from '../../protocols/link/codec.ts';
import {
  createSigmaEngine,
  loadSigma,
  mergeLoadResults,
  type SigmaDocument,
  type SigmaError,
  techniquesOf,
} from '../../protocols/sigma/index.ts';
import { readRuleDirectories, RULE_SET_LOGSOURCES } from '../../protocols/sigma/rules-dir.ts';
import type { SqlClient, SqlExecutor } from '../store/sql-client.ts';
import { createTableChanges, type TableChanges } from '../store/table-changes.ts';

export type RuleTarget = 'edge' | 'central';

/** The shipped edge ruleset (ATT&CK for ICS), seeded for pushing to gateways. */
export const BUILTIN_EDGE_RULES = fileURLToPath(new URL('../../rules/ics/', import.meta.url));

/** A managed rule as the API lists it: the contract's (protocols/api/central.ts). */
export type RuleSummary = Api.RuleSummary;

/** A refusal as the API returns it: which rule, which field, why (the contract's type). */
export type RuleProblem = Api.RuleProblem;

/** Per gateway, the rule set assigned and the one it reports running (the contract's type). */
export type GatewayRulesState = Api.GatewayRulesState;

type Row = Omit<RuleSummary, 'techniques' | 'updated_at'> & { updated_at: Date | string; yaml: string };

const KIND: Record<SigmaDocument['kind'], RuleSummary['kind']> = {
  rule: 'detection',
  correlation: 'correlation',
  filter: 'filter',
};

/** A document's row id: its `id`, else its `name`, else its title made into a slug. */
function rowId(d: SigmaDocument): string {
  const raw =
    d.id ??
    d.name ??
    d.title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
  return raw.slice(0, 128) || 'rule';
}

function problem(e: SigmaError): RuleProblem {
  return { rule: e.rule ?? null, field: e.path ?? null, why: e.message, code: e.code };
}

/** Every refusal of a whole set (load and compile), as problems. */
export function checkRuleSet(documents: readonly string[]): RuleProblem[] {
  const merged = mergeLoadResults(documents.map((text) => loadSigma(text)));
  const engine = createSigmaEngine(merged, { logsources: RULE_SET_LOGSOURCES });
  return [...merged.errors, ...engine.errors].map(problem);
}

/** Splits Sigma YAML into rows (collection actions applied); refusals instead when any document is bad. */
export function parseRuleText(
  text: string,
): { ok: true; rows: Array<{ doc: SigmaDocument; yaml: string }> } | { ok: false; problems: RuleProblem[] } {
  const loaded = loadSigma(text, { keepRaw: true, maxBytes: 1024 * 1024 });
  if (loaded.errors.length > 0) return { ok: false, problems: loaded.errors.map(problem) };
  const raw = loaded.raw ?? [];
  if (raw.length === 0)
    return {
      ok: false,
      problems: [{ rule: null, field: null, why: 'no Sigma document', code: 'not_a_rule' }],
    };
  return { ok: true, rows: raw.map((r) => ({ doc: r.document, yaml: stringify(r.map) })) };
}

export function createRulesStore(options: {
  sql: SqlClient;
  /** Shipped rule directories to seed from. */
  builtin: Array<{ dir: string; target: RuleTarget }>;
  /** Root the `builtin:` source paths are shown relative to. */
  root?: string;
  /** Where writes of the rules table are announced (default: a notice no cache of this process hears). */
  changes?: TableChanges;
}) {
  const { sql } = options;
  const changes = options.changes ?? createTableChanges();
  const root = options.root ?? path.resolve(BUILTIN_EDGE_RULES, '..', '..');

  /** Rows written (0: a shipped rule unchanged, or an operator's rule under its id). */
  const upsert = async (
    db: SqlExecutor,
    doc: SigmaDocument,
    yaml: string,
    target: RuleTarget,
    source: string,
    actor: string | null,
    builtin: boolean,
  ) => {
    const params = [
      rowId(doc),
      doc.title,
      KIND[doc.kind],
      doc.level ?? null,
      doc.tags,
      target,
      source,
      yaml,
      actor,
    ];
    // A shipped rule refreshes its content on a new release but keeps the operator's enabled flag;
    // it never overwrites a rule an operator uploaded under the same id.
    const { rowCount } = await db.query(
      `INSERT INTO rules (id, title, kind, level, tags, target, source, yaml, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, kind = EXCLUDED.kind, level = EXCLUDED.level,
         tags = EXCLUDED.tags, target = EXCLUDED.target, source = EXCLUDED.source, yaml = EXCLUDED.yaml,
         updated_at = now(), updated_by = EXCLUDED.updated_by
       ${builtin ? "WHERE rules.source LIKE 'builtin:%' AND rules.yaml IS DISTINCT FROM EXCLUDED.yaml" : ''}`,
      params,
    );
    return rowCount;
  };

  /** One transaction, announced when a shipped rule was added or changed (a new release). */
  const seed = () =>
    changes.write(
      sql,
      'rules',
      async (tx) => {
        let written = 0;
        for (const { dir, target } of options.builtin) {
          const read = readRuleDirectories([dir]);
          for (const [i, text] of read.documents.entries()) {
            const parsed = parseRuleText(text);
            if (!parsed.ok) continue; // a shipped file that does not load is reported by the engines
            const source = `builtin:${path.relative(root, read.files[i]!)}`;
            for (const { doc, yaml } of parsed.rows)
              written += await upsert(tx, doc, yaml, target, source, null, true);
          }
        }
        return written;
      },
      (written) => written > 0,
    );
  const ready = seed();
  ready.catch(() => undefined); // surfaced by every call that awaits it

  const documents = async (target: RuleTarget, override?: Map<string, string | null>) => {
    await ready;
    const { rows } = await sql.query<{ id: string; yaml: string; enabled: boolean }>(
      'SELECT id, yaml, enabled FROM rules WHERE target = $1 ORDER BY id',
      [target],
    );
    const byId = new Map(rows.filter((r) => r.enabled).map((r) => [r.id, r.yaml]));
    for (const [id, yaml] of override ?? []) {
      if (yaml === null) byId.delete(id);
      else byId.set(id, yaml);
    }
    return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, y]) => y);
  };

  const summary = (r: Row): RuleSummary => ({
    id: r.id,
    title: r.title,
    kind: r.kind,
    level: r.level,
    tags: r.tags,
    techniques: techniquesOf(r.tags),
    target: r.target,
    source: r.source,
    enabled: r.enabled,
    updated_at: new Date(r.updated_at).toISOString(),
    updated_by: r.updated_by,
  });

  return {
    ready,

    async list(filter: { target?: RuleTarget } = {}): Promise<RuleSummary[]> {
      await ready;
      const { rows } = await sql.query<Row>(
        'SELECT * FROM rules WHERE ($1::text IS NULL OR target = $1) ORDER BY target, id',
        [filter.target ?? null],
      );
      return rows.map(summary);
    },

    async get(id: string): Promise<(RuleSummary & { yaml: string }) | undefined> {
      await ready;
      const { rows } = await sql.query<Row>('SELECT * FROM rules WHERE id = $1', [id]);
      return rows[0] ? { ...summary(rows[0]), yaml: rows[0].yaml } : undefined;
    },

    /** Enables or disables a rule, unless the set it would leave does not load (a correlation needs it). */
    async setEnabled(
      id: string,
      enabled: boolean,
      actor: string,
    ): Promise<{ ok: true; rule: RuleSummary } | { ok: false; problems: RuleProblem[] } | undefined> {
      await ready;
      const { rows } = await sql.query<Row>('SELECT * FROM rules WHERE id = $1', [id]);
      const row = rows[0];
      if (!row) return undefined;
      const problems = checkRuleSet(await documents(row.target, new Map([[id, enabled ? row.yaml : null]])));
      if (problems.length > 0) return { ok: false, problems };
      const updated = await changes.write(sql, 'rules', (tx) =>
        tx.query<Row>(
          'UPDATE rules SET enabled = $2, updated_at = now(), updated_by = $3 WHERE id = $1 RETURNING *',
          [id, enabled, actor],
        ),
      );
      return { ok: true, rule: summary(updated.rows[0]!) };
    },

    /**
     * Adds or replaces rules from Sigma YAML (one or several documents). Nothing is stored unless
     * every document loads and the target's whole set still compiles with them.
     */
    async upload(
      text: string,
      target: RuleTarget,
      actor: string,
    ): Promise<{ ok: true; rules: RuleSummary[] } | { ok: false; problems: RuleProblem[] }> {
      const parsed = parseRuleText(text);
      if (!parsed.ok) return parsed;
      const override = new Map(parsed.rows.map((r) => [rowId(r.doc), r.yaml] as [string, string]));
      const problems = checkRuleSet(await documents(target, override));
      if (problems.length > 0) return { ok: false, problems };
      await changes.write(sql, 'rules', async (tx) => {
        for (const { doc, yaml } of parsed.rows) await upsert(tx, doc, yaml, target, 'upload', actor, false);
      });
      const ids = [...override.keys()];
      const { rows } = await sql.query<Row>('SELECT * FROM rules WHERE id = ANY($1) ORDER BY id', [ids]);
      return { ok: true, rules: rows.map(summary) };
    },

    /** The enabled documents of a target, in id order (central's engine, a pushed set). */
    documents: (target: RuleTarget) => documents(target),

    /** The edge set as a link message, or why it cannot be built. */
    async edgeSet(
      id: string,
    ): Promise<{ ok: true; message: RulesMessage; rules: number } | { ok: false; problems: RuleProblem[] }> {
      const docs = await documents('edge');
      const problems = checkRuleSet(docs);
      if (problems.length > 0) return { ok: false, problems };
      return {
        ok: true,
        message: { type: 'rules', id, version: ruleSetVersion(docs), documents: docs },
        rules: docs.length,
      };
    },

    /** Assigns a set to gateways (they get it now if connected, else on their next connection). */
    async assign(gateways: readonly string[], message: RulesMessage, actor: string): Promise<void> {
      await sql.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO rule_sets (version, id, documents, rules, created_by) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (version) DO NOTHING`,
          [message.version, message.id, JSON.stringify(message.documents), message.documents.length, actor],
        );
        for (const gateway of gateways) {
          await tx.query(
            `INSERT INTO gateway_rules (gateway, assigned_version, assigned_at) VALUES ($1, $2, now())
             ON CONFLICT (gateway) DO UPDATE SET assigned_version = EXCLUDED.assigned_version,
               assigned_at = EXCLUDED.assigned_at`,
            [gateway, message.version],
          );
        }
        // Only assigned sets are kept.
        await tx.query(
          `DELETE FROM rule_sets WHERE version NOT IN
             (SELECT assigned_version FROM gateway_rules WHERE assigned_version IS NOT NULL)`,
        );
      });
    },

    /** The set assigned to a gateway (link SPEC §8.2). */
    async assigned(gateway: string): Promise<RulesMessage | undefined> {
      const { rows } = await sql.query<{ id: string; version: string; documents: unknown }>(
        `SELECT s.id, s.version, s.documents FROM gateway_rules g JOIN rule_sets s ON s.version = g.assigned_version
         WHERE g.gateway = $1`,
        [gateway],
      );
      const row = rows[0];
      if (!row) return undefined;
      const documents = (
        typeof row.documents === 'string' ? JSON.parse(row.documents) : row.documents
      ) as string[];
      return { type: 'rules', id: row.id, version: row.version, documents };
    },

    /** What a gateway reports running (hello or rules_status, link SPEC §8.1, §8.3). */
    async reported(
      gateway: string,
      report: { id?: string; version?: string; ok: boolean; requested?: string; error?: string },
    ): Promise<void> {
      await sql.query(
        `INSERT INTO gateway_rules (gateway, running_set_id, running_version, reported_at, last_error, last_error_at)
         VALUES ($1, $2, $3, now(), $4, CASE WHEN $4::text IS NULL THEN NULL ELSE now() END)
         ON CONFLICT (gateway) DO UPDATE SET
           running_set_id = COALESCE(EXCLUDED.running_set_id, CASE WHEN EXCLUDED.running_version
             IS NOT DISTINCT FROM gateway_rules.running_version THEN gateway_rules.running_set_id END),
           running_version = EXCLUDED.running_version, reported_at = now(),
           last_error = CASE WHEN $5 THEN gateway_rules.last_error ELSE EXCLUDED.last_error END,
           last_error_at = CASE WHEN $5 THEN gateway_rules.last_error_at ELSE EXCLUDED.last_error_at END`,
        // A hello (no `requested`) keeps the last refusal on record; an answer to a push replaces it.
        [
          gateway,
          report.id ?? null,
          report.version ?? null,
          report.ok ? null : (report.error ?? 'refused'),
          report.requested === undefined,
        ],
      );
    },

    /** Per gateway: the set assigned, the set running, the last refusal (GET /api/gateways). */
    async gatewayStates(): Promise<Map<string, GatewayRulesState>> {
      const { rows } = await sql.query<GatewayRulesState & { gateway: string }>(
        'SELECT * FROM gateway_rules',
      );
      const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);
      return new Map(
        rows.map((r) => [
          r.gateway,
          {
            assigned_version: r.assigned_version,
            assigned_at: iso(r.assigned_at),
            running_set_id: r.running_set_id,
            running_version: r.running_version,
            reported_at: iso(r.reported_at),
            last_error: r.last_error,
            last_error_at: iso(r.last_error_at),
          },
        ]),
      );
    },
  };
}

export type RulesStore = ReturnType<typeof createRulesStore>;

/**
 * Playbooks on the gateway (issue 21 ask 4, link SPEC §9): the set central pushed (persisted in
 * `<data_dir>/playbooks/playbooks.json`, so it runs after a restart and while the link is down),
 * matched against the gateway's own alerts as detection raises them; a match applies its actions
 * at once to the response controls (controls.ts), which the MQTT broker and the Modbus proxies
 * obey. Commands central sends (a central-triggered run, an undo) go to the same controls. Every
 * change, local or commanded, applied or refused, becomes a `gateway.playbook_action` audit event
 * in the queue, which is how central learns of local runs even after an outage.
 *
 * The targets of an action come from the alert's evidence: the observed events it names (their
 * source address, their MQTT client id), remembered here for the most recent observations.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { EvictionCursor } from '../../protocols/event/evict.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import {
  type CommandMessage,
  type CommandResultMessage,
  type PlaybooksMessage,
  type PlaybooksStatusMessage,
  playbookSetVersion,
} from '../../protocols/link/codec.ts';
import {
  type BlockRequest,
  type EdgePlaybook,
  edgePlaybookSchema,
  type Evidence,
  matchPlaybook,
  requestsFor,
  targetsOf,
} from '../../protocols/playbook/schema.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { ResponseControls } from './controls.ts';

/** Observations whose source address and client id are remembered for alerts to name. */
export const EVIDENCE_REMEMBERED = 10_000;

export interface GatewayPlaybooksOptions {
  dataDir: string;
  gateway: string;
  controls: ResponseControls;
  /** The observation id detection gave an event (the alert's `event_ids` name these). */
  idFor: (event: PendingEvent) => string;
  /** Queues audit events (the pipeline, as the gateway's own source). */
  emit: (events: PendingEvent[]) => Promise<void>;
  logger: Logger;
  metrics?: GatewayMetrics;
  now?: () => Date;
  maxEvidence?: number;
}

const storedSchema = z.strictObject({ version: z.string(), playbooks: z.array(edgePlaybookSchema) });

export function createGatewayPlaybooks(options: GatewayPlaybooksOptions) {
  const { controls, logger } = options;
  const now = options.now ?? (() => new Date());
  const dir = path.join(options.dataDir, 'playbooks');
  const file = path.join(dir, 'playbooks.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const maxEvidence = options.maxEvidence ?? EVIDENCE_REMEMBERED;
  /** Observation id → what it says about its sender; insertion order is age. */
  const evidence = new Map<string, Evidence>();
  const oldest = new EvictionCursor(evidence);
  let running: { version: string; playbooks: EdgePlaybook[] } | undefined = load(file, logger);
  let runs = 0;

  const audit = (
    fields: Record<string, unknown>,
    ok: boolean,
    message: string,
    r?: BlockRequest,
  ): PendingEvent => {
    const at = now().toISOString();
    return {
      ts: at,
      received: at,
      source: 'gateway',
      kind: 'audit',
      action: 'gateway.playbook_action',
      severity: ok ? 5 : 4,
      message,
      ...(r?.value && (r.type === 'mqtt_block_client' ? {} : { src: { ip: r.value } })),
      fields: { outcome: ok ? 'ok' : 'failed', ...fields },
      tags: ['playbook', 'response'],
    };
  };
  const queue = (events: PendingEvent[]) => {
    const m = options.metrics;
    if (m) {
      for (const e of events) {
        const f = e.fields as { type?: string; outcome?: string; trigger?: string };
        m.playbookActions.inc({
          type: f.type ?? 'unknown',
          outcome: f.outcome ?? 'failed',
          trigger: f.trigger ?? 'local',
        });
      }
      m.responseEntries.set(controls.list().length);
    }
    options
      .emit(events)
      .catch((error: Error) =>
        logger.error({ err: error.message }, 'could not queue a playbook audit event'),
      );
  };
  const describe = (r: BlockRequest) =>
    `${r.type.replaceAll('_', ' ')}${r.value ? ` ${r.value}` : ''}${r.source ? ` on ${r.source}` : ''}`;

  // Observation ids are never reused: insertion order is age, the cursor evicts in O(1) (evict.ts).
  const remember = (id: string, e: Evidence) => {
    evidence.set(id, e);
    if (evidence.size > maxEvidence) oldest.evict();
  };

  const onAlert = (alert: PendingEvent) => {
    if (!running || running.playbooks.length === 0 || alert.action !== 'alert.raised' || !alert.threat)
      return;
    const fields = alert.fields as { event_ids?: unknown; entity?: unknown; alert_id?: unknown };
    const facts = {
      rule_id: alert.threat.rule_id,
      severity: alert.severity,
      techniques: alert.threat.techniques,
      gateway: options.gateway,
      site: null,
    };
    const matched = running.playbooks.filter((p) => matchPlaybook(p.match, facts));
    if (matched.length === 0) return;
    const named: Evidence[] = [];
    for (const id of Array.isArray(fields.event_ids) ? fields.event_ids.slice(0, 200) : []) {
      const e = typeof id === 'string' ? evidence.get(id) : undefined;
      if (e) named.push(e);
    }
    // A correlation grouped by address names it as its entity even when its evidence is gone.
    if (named.length === 0 && typeof fields.entity === 'string') named.push({ src_ip: fields.entity });
    const targets = targetsOf(named);
    const out: PendingEvent[] = [];
    for (const playbook of matched) {
      runs += 1;
      const base = {
        trigger: 'local',
        playbook_id: playbook.id,
        rule_id: facts.rule_id,
        alert_id: typeof fields.alert_id === 'string' ? fields.alert_id : undefined,
        op: 'apply',
      };
      for (const [index, action] of playbook.actions.entries()) {
        const requests = requestsFor(action, targets);
        if (requests.length === 0) {
          out.push(
            audit(
              { ...base, index, type: action.type, error: 'the alert names no target for this action' },
              false,
              `playbook ${playbook.id}: ${action.type.replaceAll('_', ' ')} not applied: the alert names no target`,
            ),
          );
          continue;
        }
        // One write to disk for all of an action's blocks (a rotating-id brute force names up to 32).
        const results = controls.applyMany(requests, `playbook:${playbook.id}`);
        for (const [k, r] of requests.entries()) {
          const result = results[k]!;
          const detail = { ...base, index, type: r.type, value: r.value, source_name: r.source };
          out.push(
            result.ok
              ? audit(
                  {
                    ...detail,
                    entry: result.entry.id,
                    expires_at: result.entry.expires_at,
                    existed: result.existed,
                  },
                  true,
                  `playbook ${playbook.id}: ${describe(r)}`,
                  r,
                )
              : audit(
                  { ...detail, error: result.error },
                  false,
                  `playbook ${playbook.id}: ${describe(r)} refused: ${result.error}`,
                  r,
                ),
          );
        }
      }
    }
    if (out.length > 0) queue(out);
  };

  return {
    /** The version of the set running (link hello, SPEC §9.1). */
    version: (): string | undefined => running?.version,
    running: () => running,
    runs: () => runs,

    /** Every observation and alert, as the pipeline's detection saw them. */
    observe(events: ReadonlyArray<PendingEvent>): void {
      // Nothing to run, nothing to remember: no cost on the hot path of a gateway without playbooks.
      if (!running || running.playbooks.length === 0) return;
      for (const e of events) {
        if (e.kind === 'alert') {
          onAlert(e);
          continue;
        }
        // Readings (telemetry) and health are the bulk of the traffic and name no attacker.
        if (e.kind === 'telemetry' || e.kind === 'health') continue;
        const clientId = e.source === 'mqtt' ? (e.fields as { client_id?: unknown }).client_id : undefined;
        if (!e.src?.ip && typeof clientId !== 'string') continue;
        remember(options.idFor(e), {
          src_ip: e.src?.ip,
          client_id: typeof clientId === 'string' && clientId !== '' ? clientId : undefined,
        });
      }
    },

    /** SPEC §9.2: swaps in a pushed set whose version names its content, persisted first. */
    apply(message: PlaybooksMessage): PlaybooksStatusMessage {
      const version = playbookSetVersion(message.playbooks);
      const status = (ok: boolean, error?: string): PlaybooksStatusMessage => ({
        type: 'playbooks_status',
        requested: message.version,
        ok,
        ...(running && { version: running.version }),
        ...(error && { error }),
      });
      if (version !== message.version)
        return status(false, `version ${message.version} does not name this content (${version})`);
      try {
        const tmp = `${file}.tmp`;
        writeFileSync(tmp, JSON.stringify({ version, playbooks: message.playbooks }), { mode: 0o600 });
        renameSync(tmp, file);
      } catch (error) {
        return status(false, `could not persist the set: ${(error as Error).message}`);
      }
      running = { version, playbooks: message.playbooks };
      logger.info({ version, playbooks: message.playbooks.length }, 'playbook set from central applied');
      return status(true);
    },

    /** An admin's undo on the gateway's own API, audited for central (trigger `gateway_api`). */
    localUndo(entryId: string, actor: string) {
      const entry = controls.undo(entryId);
      if (entry)
        queue([
          audit(
            {
              trigger: 'gateway_api',
              actor: actor.slice(0, 64),
              op: 'undo',
              entry: entry.id,
              type: entry.type,
              value: entry.value,
              source_name: entry.source,
            },
            true,
            `undone on the gateway by ${actor}: ${describe(entry)}`,
          ),
        ]);
      return entry;
    },

    /** SPEC §9.3: a command from central (apply a block, undo an entry), audited like a local run. */
    command(message: CommandMessage): CommandResultMessage {
      const base = { trigger: 'central', command_id: message.command_id, op: message.op };
      if (message.op === 'undo') {
        const entry = controls.undo(message.entry);
        queue([
          entry
            ? audit(
                { ...base, entry: entry.id, type: entry.type, value: entry.value, source_name: entry.source },
                true,
                `undone: ${describe(entry)}`,
              )
            : audit(
                { ...base, entry: message.entry, error: 'no such entry' },
                false,
                `undo of ${message.entry}: no such entry`,
              ),
        ]);
        // Undoing what is already gone leaves the same state: central may mark it undone.
        return {
          type: 'command_result',
          command_id: message.command_id,
          ok: true,
          ...(!entry && { error: 'no such entry (expired or undone already)' }),
        };
      }
      const r = message.request;
      const result = controls.apply(r, `central:${message.command_id}`);
      const detail = { ...base, type: r.type, value: r.value, source_name: r.source };
      queue([
        result.ok
          ? audit(
              { ...detail, entry: result.entry.id, expires_at: result.entry.expires_at },
              true,
              `central: ${describe(r)}`,
              r,
            )
          : audit(
              { ...detail, error: result.error },
              false,
              `central: ${describe(r)} refused: ${result.error}`,
              r,
            ),
      ]);
      return result.ok
        ? { type: 'command_result', command_id: message.command_id, ok: true, entry: result.entry.id }
        : { type: 'command_result', command_id: message.command_id, ok: false, error: result.error };
    },
  };
}

export type GatewayPlaybooks = ReturnType<typeof createGatewayPlaybooks>;

function load(file: string, logger: Logger): { version: string; playbooks: EdgePlaybook[] } | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = storedSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    if (playbookSetVersion(parsed.playbooks) !== parsed.version) throw new Error('version does not match');
    return parsed;
  } catch (error) {
    logger.error(
      { err: (error as Error).message, file },
      'the saved playbook set is unreadable; running none',
    );
    return undefined;
  }
}

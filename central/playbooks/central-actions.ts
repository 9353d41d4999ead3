/**
 * The actions central takes itself, each with its undo: a webhook to a SOAR through a configured
 * `type: webhook` sink (its URL, timeout and HMAC key come from central's config, never from the
 * API, so a playbook cannot aim central at an address of its choosing), disabling a dashboard user
 * (their sessions end) or removing an API token (its record is kept in the action so that the undo
 * restores it: the token's secret was never stored, its hash is), and opening an incident for the
 * alert when it is in none.
 */
import type { Alert } from '../alerts/types.ts';
import type { CentralAction } from '../../protocols/playbook/schema.ts';
import type { ApiTokenRecord, AuthStore } from '../../server-shared/web-auth/types.ts';
import type { SinkConfig } from '../sinks/config.ts';
import { readSecret } from '../sinks/secret.ts';
import { webhookPoster, webhookSignature } from '../sinks/webhook.ts';
import type { SqlClient } from '../store/sql-client.ts';

export type Outcome =
  { ok: true; undo: Record<string, unknown> | null; note?: string } | { ok: false; error: string };

export interface CentralActionDeps {
  sql: SqlClient;
  auth: AuthStore;
  sinks: Record<string, SinkConfig>;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

export interface ActionContext {
  playbook: { id: string; name: string };
  runId: number;
  actionId: number;
  alert: Alert | undefined;
}

export function createCentralActions(deps: CentralActionDeps) {
  const now = deps.now ?? (() => new Date());
  const webhooks = new Map<string, { post: ReturnType<typeof webhookPoster>; secret: string }>();
  for (const [name, config] of Object.entries(deps.sinks)) {
    if (config.type !== 'webhook') continue;
    const secret = readSecret(name, config, deps.env);
    // Through the sink's own address guard (sinks.<name>.allow_addresses) and TLS settings.
    if (secret) webhooks.set(name, { post: webhookPoster(name, config), secret });
  }

  async function webhook(sink: string, ctx: ActionContext): Promise<Outcome> {
    const target = webhooks.get(sink);
    if (!target) return { ok: false, error: `no webhook sink ${sink} in central's config` };
    const key = `playbook-${ctx.runId}-${ctx.actionId}`;
    const body = JSON.stringify({
      idempotency_key: key,
      playbook: ctx.playbook,
      run_id: ctx.runId,
      alert: ctx.alert ?? null,
    });
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const sent = await target.post(
      {
        'idempotency-key': key,
        'x-siem-timestamp': timestamp,
        'x-siem-signature': webhookSignature(target.secret, timestamp, body),
      },
      body,
    );
    if ('error' in sent) return { ok: false, error: `sink ${sink}: ${sent.error}` };
    if (sent.status < 200 || sent.status >= 300)
      return { ok: false, error: `HTTP ${sent.status} from sink ${sink}` };
    return { ok: true, undo: null, note: `HTTP ${sent.status}` };
  }

  async function disableUser(username: string): Promise<Outcome> {
    const user = await deps.auth.getUser(username);
    if (!user) return { ok: false, error: `no user ${username}` };
    if (user.disabled) return { ok: true, undo: null, note: 'already disabled' };
    await deps.auth.updateUser(username, { disabled: true, updated_at: now() });
    const sessions = await deps.auth.deleteUserSessions(username);
    return { ok: true, undo: { username }, note: `disabled, ${sessions} session(s) ended` };
  }

  async function disableToken(tokenId: string): Promise<Outcome> {
    const token = (await deps.auth.listTokens()).find((t) => t.id === tokenId);
    if (!token) return { ok: false, error: `no API token ${tokenId}` };
    if (!(await deps.auth.deleteToken(tokenId))) return { ok: false, error: `API token ${tokenId} vanished` };
    return {
      ok: true,
      undo: {
        token: {
          ...token,
          created_at: token.created_at.toISOString(),
          expires_at: token.expires_at?.toISOString() ?? null,
          last_used_at: token.last_used_at?.toISOString() ?? null,
        },
      },
      note: `token ${token.name} of ${token.username} removed`,
    };
  }

  async function openIncident(ctx: ActionContext): Promise<Outcome> {
    const alert = ctx.alert;
    if (!alert) return { ok: false, error: 'no alert to open an incident for' };
    return deps.sql.transaction(async (tx) => {
      const { rows: inside } = await tx.query<{ incident_id: number | string }>(
        'SELECT incident_id FROM incident_alerts WHERE alert_id = $1',
        [alert.id],
      );
      if (inside[0]) return { ok: true, undo: null, note: `already in incident ${inside[0].incident_id}` };
      const { rows } = await tx.query<{ id: number | string }>(
        `INSERT INTO incidents (attacker_kind, attacker, title, severity, alert_count, first_seen, last_seen)
         VALUES ('address', $1, $2, $3, 1, $4, $5) RETURNING id`,
        [
          alert.entity,
          `${ctx.playbook.name}: ${alert.rule_title}`.slice(0, 500),
          alert.severity,
          alert.first_seen,
          alert.last_seen,
        ],
      );
      const id = Number(rows[0]!.id);
      await tx.query('INSERT INTO incident_alerts (alert_id, incident_id) VALUES ($1, $2)', [alert.id, id]);
      await tx.query(
        `INSERT INTO incident_history (incident_id, actor, change, to_value) VALUES ($1, $2, 'opened', $3)`,
        [id, `playbook:${ctx.playbook.id}`, String(alert.id)],
      );
      return { ok: true, undo: { incident: id }, note: `incident ${id} opened` };
    });
  }

  return {
    run(action: CentralAction, ctx: ActionContext): Promise<Outcome> {
      switch (action.type) {
        case 'webhook':
          return webhook(action.sink, ctx);
        case 'disable_user':
          return disableUser(action.username);
        case 'disable_token':
          return disableToken(action.token_id);
        case 'open_incident':
          return openIncident(ctx);
      }
    },

    /** Undoes what `run` did, from its undo record; an error when it cannot be undone. */
    async undo(type: string, undo: Record<string, unknown> | null, actor: string): Promise<Outcome> {
      if (type === 'webhook') return { ok: false, error: 'a webhook call cannot be taken back' };
      if (!undo) return { ok: true, undo: null, note: 'nothing was changed' };
      if (type === 'disable_user') {
        const username = String(undo.username);
        const user = await deps.auth.updateUser(username, { disabled: false, updated_at: now() });
        return user
          ? { ok: true, undo: null, note: `${username} enabled` }
          : { ok: false, error: `no user ${username}` };
      }
      if (type === 'disable_token') {
        const t = undo.token as Record<string, string | null> & { scopes: ApiTokenRecord['scopes'] };
        if (!(await deps.auth.getUser(String(t.username))))
          return { ok: false, error: `the token's owner ${t.username} no longer exists` };
        if ((await deps.auth.listTokens()).some((x) => x.id === t.id))
          return { ok: true, undo: null, note: 'present already' };
        await deps.auth.createToken({
          id: String(t.id),
          token_sha256: String(t.token_sha256),
          name: String(t.name),
          username: String(t.username),
          scopes: t.scopes,
          created_at: new Date(String(t.created_at)),
          expires_at: t.expires_at ? new Date(t.expires_at) : null,
          last_used_at: t.last_used_at ? new Date(t.last_used_at) : null,
        });
        return { ok: true, undo: null, note: `token ${t.name} restored` };
      }
      if (type === 'open_incident') {
        const id = Number(undo.incident);
        const { rows } = await deps.sql.query(
          `UPDATE incidents SET status = 'false_positive', updated_at = now() WHERE id = $1 RETURNING id`,
          [id],
        );
        if (rows.length === 0) return { ok: false, error: `no incident ${id}` };
        await deps.sql.query(
          `INSERT INTO incident_history (incident_id, actor, change, to_value) VALUES ($1, $2, 'status', 'false_positive')`,
          [id, actor],
        );
        return { ok: true, undo: null, note: `incident ${id} closed as false positive` };
      }
      return { ok: false, error: `${type} cannot be undone here` };
    },

    hasWebhook: (sink: string) => webhooks.has(sink),
  };
}

export type CentralActions = ReturnType<typeof createCentralActions>;

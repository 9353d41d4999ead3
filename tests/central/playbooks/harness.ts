/**
 * The set-up the playbook API tests share (playbooks-api.test.ts, playbooks-approval.test.ts):
 * central in process on PGlite and on PostgreSQL, with a webhook sink to a real HTTP receiver
 * (signed with its HMAC key) and one aimed at the cloud metadata address, users of each role with
 * API tokens, and helpers to call the API, raise an alert and wait for a playbook's run.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, type TestContext } from 'node:test';
import { newToken, sha256Hex } from '../../../central/auth/tokens.ts';
import { centralConfigSchema } from '../../../central/config/schema.ts';
import { type BuiltCentral, buildCentral } from '../../../central/index.ts';
import { createLogger } from '../../../central/log.ts';
import { createCentralMetrics } from '../../../central/metrics.ts';
import {
  createPgliteStore,
  createStore,
  type EventStore,
  storeConfigSchema,
} from '../../../central/store/index.ts';
import { newUserRecord } from '../../../server-shared/web-auth/password.ts';
import { skipUnmet, waitFor } from '../../support/env.ts';
import { requirePostgres, type TempDatabase } from '../../support/postgres.ts';
import { iso, makeEvent } from '../store/fixtures.ts';

const T = Date.now();
/** The HMAC key of the `soar` webhook sink. */
export const KEY = 'playbook-test-hmac-key-0123456789';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies, read field by field */
export interface PlaybooksApi {
  readonly built: BuiltCentral;
  /** What the `soar` sink's receiver got: body and signature headers. */
  received: Array<{ body: string; signature: string; timestamp: string }>;
  analystToken: string;
  viewerToken: string;
  /** The admin `svc`'s token, which a playbook cuts. */
  victimToken: string;
  call(
    token: string | null,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** False (the test skipped with the reason) without its store (PostgreSQL unreachable). */
  ready(t: TestContext): boolean;
  /** Stores an event from `ip` and raises an alert of `rule` on gateway gw-1 for it; its id. */
  raise(rule: string, ip?: string): Promise<number>;
  /** The latest run of `playbook` once it has actions (and `status`, when given). */
  runFor(playbook: string, status?: string): Promise<any>;
}

/** `tests` in a describe block per store (PGlite, PostgreSQL), each on a central of its own. */
export function playbooksApiSuite(title: string, tests: (h: PlaybooksApi) => void): void {
  for (const kind of ['pglite', 'postgres'] as const)
    describe(`${title} (${kind})`, () => {
      let db: TempDatabase | undefined;
      let store: EventStore;
      let built: BuiltCentral;
      let receiver: Server;
      const received: Array<{ body: string; signature: string; timestamp: string }> = [];
      const adminToken = newToken();
      // Personal API tokens carry the `siem_` prefix (server-shared/web-auth/session.ts).
      const analystToken = `siem_${newToken()}`;
      const viewerToken = `siem_${newToken()}`;
      const victimToken = `siem_${newToken()}`;
      let seq = 0;

      const call = async (token: string | null, method: string, path: string, body?: unknown) => {
        const res = await built.app.request(path, {
          method,
          headers: {
            ...(token && { authorization: `Bearer ${token}` }),
            'content-type': 'application/json',
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) };
      };
      const admin = (method: string, path: string, body?: unknown) => call(adminToken, method, path, body);

      before(async (t) => {
        if (kind === 'postgres') {
          db = await requirePostgres(t as never);
          if (!db) return;
        }
        receiver = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            received.push({
              body: Buffer.concat(chunks).toString('utf8'),
              signature: String(req.headers['x-siem-signature']),
              timestamp: String(req.headers['x-siem-timestamp']),
            });
            res.writeHead(200).end();
          });
        });
        await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
        const port = (receiver.address() as AddressInfo).port;
        process.env.PLAYBOOK_TEST_HOOK_KEY = KEY;
        store = db
          ? await createStore(storeConfigSchema.parse({ type: 'postgres', url: db.url }))
          : await createPgliteStore();
        await store.init(new Date(T));
        const config = centralConfigSchema.parse({
          storage: db ? { type: 'postgres', url: db.url } : { type: 'pglite' },
          // No automatic incidents: the playbook's open_incident action is what opens one here.
          alerts: { incident_window_secs: 0 },
          sinks: {
            soar: {
              type: 'webhook',
              url: `http://127.0.0.1:${port}/hook`,
              secret_env: 'PLAYBOOK_TEST_HOOK_KEY',
              // The test's receiver is on loopback, which the address guard refuses unless allowed.
              allow_addresses: ['127.0.0.1'],
              // Only the playbook calls it: the alert forwarding filter takes nothing.
              filter: { tags: ['never-forwarded'] },
            },
            // An admin's mistake (or a planted config): a sink aimed at the cloud metadata address.
            metadata: {
              type: 'webhook',
              url: 'http://169.254.169.254/latest/meta-data/',
              secret_env: 'PLAYBOOK_TEST_HOOK_KEY',
              filter: { tags: ['never-forwarded'] },
            },
          },
        });
        built = await buildCentral(config, store, {
          metrics: createCentralMetrics({ processMetrics: false }),
          logger: createLogger('silent'),
          apiTokens: [{ name: 'soc-admin', token_sha256: sha256Hex(adminToken) }],
        });
        const auth = built.authStore;
        const now = new Date();
        for (const [username, role] of [
          ['ana', 'analyst'],
          ['vic', 'viewer'],
          ['mallory', 'analyst'],
          ['svc', 'admin'],
        ] as const) {
          await auth.createUser(await newUserRecord(username, role, 'a long enough password', now));
        }
        const token = async (id: string, secret: string, username: string, scopes: any[]) =>
          auth.createToken({
            id,
            token_sha256: sha256Hex(secret),
            name: id,
            username,
            scopes,
            created_at: now,
            expires_at: null,
            last_used_at: null,
          });
        await token('t-ana', analystToken, 'ana', ['read', 'alerts', 'rules']);
        await token('t-vic', viewerToken, 'vic', ['read']);
        await token('t-svc', victimToken, 'svc', ['read']);
      });
      after(async () => {
        await built?.stop();
        await store?.close();
        receiver?.close();
        await db?.drop();
      });
      const ready = (t: TestContext) => {
        if (!built) skipUnmet(t);
        return built !== undefined;
      };

      async function raise(rule: string, ip = '10.9.8.66') {
        seq += 1;
        const event = makeEvent('gw-1', seq, iso(T - 1000 + seq), {
          source: 'mqtt',
          kind: 'security',
          action: 'mqtt.auth_failure',
          src: { ip, port: 40000 + seq },
          device: { id: `mqtt:rot-${seq}` },
          fields: { client_id: `rot-${seq}` },
        });
        await store.insertEvents([event]);
        const res = await admin('POST', '/api/alerts', {
          rule: { id: rule, title: `Rule ${rule}`, level: 'high', techniques: ['T0812'] },
          entity: { device_id: `mqtt:rot-${seq}`, gateway: 'gw-1' },
          event_ids: [event.id],
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.alert?.id ?? res.body.id;
      }

      const runFor = (playbook: string, status?: string) =>
        waitFor(
          async () => {
            const { body } = await admin('GET', `/api/playbook-runs?playbook=${playbook}`);
            const run = body.runs[0];
            return run && run.actions.length > 0 && (!status || run.status === status) ? run : undefined;
          },
          { timeoutMs: 60_000, what: `a ${status ?? ''} run of ${playbook}` },
        );

      tests({
        get built() {
          return built;
        },
        received,
        analystToken,
        viewerToken,
        victimToken,
        call,
        admin,
        ready,
        raise,
        runFor,
      });
    });
}

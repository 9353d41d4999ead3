/**
 * The two real servers the attack tests in tests/security/ run against, started the same way:
 * central on PGlite and a gateway with its file store (nobody listens at its central endpoint: the
 * local HTTP side is what is attacked). Each comes with its first admin's password, a movable
 * clock for sessions and TOTP, the captured logs, and what its storage holds on disk or in rows.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { startCentral } from '../../central/index.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { startGateway } from '../../gateway/index.ts';
import { capturingLogger, movableClock } from '../server-shared/web-auth/capture.ts';
import { createClient } from '../server-shared/web-auth/client.ts';

export interface TargetServer {
  name: 'central' | 'gateway';
  url: string;
  cookieName: string;
  adminPassword: string;
  api: ReturnType<typeof createClient>;
  /** Everything logged through pino. */
  logs(): string;
  advance(ms: number): void;
  now(): number;
  /** A GET every role may read. */
  readPath: string;
  /** Sessions held in the server's storage (rows, or live entries of the gateway's log). */
  storedSessions(): Promise<number>;
  /** The gateway's data directory (absent for central). */
  dataDir?: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** The `auth` block (central: `auth`, gateway: `http.auth`). */
  auth?: Record<string, unknown>;
  /** Extra keys of the `http` block. */
  http?: Record<string, unknown>;
}

const privateKey = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

/** Replays the gateway's sessions log (gateway/auth/session-log.ts) as a restart would. */
function storedGatewaySessions(file: string): number {
  const live = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const op = JSON.parse(line) as { p?: { id_sha256: string }; d?: string };
    if (op.p) live.add(op.p.id_sha256);
    if (op.d) live.delete(op.d);
  }
  return live.size;
}

function adminPasswordFrom(printed: string[]): string {
  const match = /password (\S+)/.exec(printed[0] ?? '');
  if (!match) throw new Error(`no first admin password printed: ${printed.join('')}`);
  return match[1]!;
}

export async function startCentralTarget(o: TargetOptions = {}): Promise<TargetServer> {
  const printed: string[] = [];
  const log = capturingLogger();
  const clock = movableClock();
  const central = await startCentral(
    centralConfigSchema.parse({
      http: { listen: '127.0.0.1:0', ...o.http },
      storage: { type: 'pglite' },
      auth: o.auth ?? {},
      log: { level: 'debug' },
    }),
    { logger: log.logger, processMetrics: false, printSecret: (t) => printed.push(t), authNow: clock.now },
  );
  return {
    name: 'central',
    url: central.url(),
    cookieName: 'siem_session',
    adminPassword: adminPasswordFrom(printed),
    api: createClient(central.url(), 'siem_session'),
    logs: log.text,
    advance: clock.advance,
    now: () => clock.now().getTime(),
    readPath: '/api/gateways',
    async storedSessions() {
      const { rows } = await central.store.sql.query<{ n: unknown }>('SELECT count(*) AS n FROM sessions');
      return Number(rows[0]!.n);
    },
    stop: () => central.stop(),
  };
}

export async function startGatewayTarget(
  o: TargetOptions & { dataDir?: string } = {},
): Promise<TargetServer> {
  const printed: string[] = [];
  const log = capturingLogger();
  const clock = movableClock();
  const dataDir = o.dataDir ?? mkdtempSync(path.join(tmpdir(), 'siem-sec-gw-'));
  const gateway = await startGateway(
    gatewayConfigSchema.parse({
      gateway: { id: 'gw-sec', data_dir: dataDir },
      sources: {},
      central: { endpoint: 'ws://127.0.0.1:9/link', initial_backoff_secs: 5, max_backoff_secs: 5 },
      http: { listen: '127.0.0.1:0', auth: o.auth ?? {}, ...o.http },
      log: { level: 'debug' },
    }),
    {
      privateKey,
      logger: log.logger,
      processMetrics: false,
      printSecret: (t) => printed.push(t),
      authNow: clock.now,
    },
  );
  return {
    name: 'gateway',
    url: gateway.httpUrl(),
    cookieName: 'siem_gw_session',
    adminPassword: printed.length > 0 ? adminPasswordFrom(printed) : '',
    api: createClient(gateway.httpUrl(), 'siem_gw_session'),
    logs: log.text,
    advance: clock.advance,
    now: () => clock.now().getTime(),
    readPath: '/api/status',
    dataDir,
    async storedSessions() {
      return storedGatewaySessions(path.join(dataDir, 'auth', 'sessions.log'));
    },
    stop: async () => {
      await gateway.stop();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Both servers, for `for (const [name, start] of TARGETS)`. */
export const TARGETS: ReadonlyArray<readonly [string, (o?: TargetOptions) => Promise<TargetServer>]> = [
  ['central', startCentralTarget],
  ['gateway', startGatewayTarget],
];

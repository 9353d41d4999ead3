/**
 * Starts real central and gateway servers for integration tests: ephemeral ports on 127.0.0.1,
 * fresh random tokens, a temp data dir for the gateway, and central on PGlite (in memory) or on
 * a real PostgreSQL database. Logs are silent unless SIEM_TEST_LOG is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newToken, sha256Hex } from '../../central/auth/tokens.ts';
import { enrollGateway } from '../../gateway/enroll.ts';
import { centralConfigSchema } from '../../central/config/schema.ts';
import { type Central, startCentral } from '../../central/index.ts';
import { createLogger as centralLogger } from '../../central/log.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { type Gateway, startGateway } from '../../gateway/index.ts';
import { createLogger as gatewayLogger } from '../../gateway/log.ts';
import type { Event, PendingEvent } from '../../protocols/event/schema.ts';

const LOG_LEVEL = process.env.SIEM_TEST_LOG ?? 'silent';

export type StoreKind =
  { type: 'pglite'; data_dir?: string } | { type: 'postgres'; url: string; lock_wait_secs?: number };

export interface TestCentral {
  central: Central;
  apiToken: string;
  gatewayId: string;
  /** The enrolled key of `gatewayId` (enrolled through the real /enroll endpoint). */
  privateKey: string;
  /**
   * Enrolls a gateway id through the real /enroll endpoint and returns its private key; with
   * `credentialsFile`, the credentials stay there (as `siem-gateway run` expects them).
   */
  enroll(gatewayId: string, credentialsFile?: string): Promise<string>;
  /** The first admin (username `admin`), from the password central printed once at start. */
  admin: { username: string; password: string };
  /** GET a path of central's API with the API token. */
  api(pathAndQuery: string): Promise<{ status: number; body: unknown }>;
  /** Every stored event matching the query string, newest first (first page up to 1000). */
  events(query?: string): Promise<Event[]>;
}

export async function startTestCentral(
  store: StoreKind,
  {
    listen = '127.0.0.1:0',
    gatewayId = 'gw-test',
    heartbeatSecs = 10,
    privateKey = undefined as string | undefined,
    link = {} as Record<string, unknown>,
    http = {} as Record<string, unknown>,
    /** PEM material the test's own enrollments use against an https central. */
    clientTls = {} as { ca?: string; cert?: string; key?: string },
    onStored = undefined as ((events: Event[]) => void) | undefined,
    onGatewayConnected = undefined as ((gateway: string) => void) | undefined,
    detection = {} as Record<string, unknown>,
    /** The `cluster:` block (several nodes on one PostgreSQL, issue 22). */
    cluster = undefined as Record<string, unknown> | undefined,
  } = {},
): Promise<TestCentral> {
  const apiToken = newToken();
  const printed: string[] = [];
  const central = await startCentral(
    centralConfigSchema.parse({
      http: { listen, ...http },
      storage: store,
      link: { heartbeat_interval_secs: heartbeatSecs, ...link },
      detection,
      ...(cluster && { cluster }),
      api: { tokens: [{ name: 'test', token_sha256: sha256Hex(apiToken) }] },
      log: { level: LOG_LEVEL },
    }),
    {
      logger: centralLogger(LOG_LEVEL),
      processMetrics: false,
      onStored,
      onGatewayConnected,
      printSecret: (text) => printed.push(text),
    },
  );
  const api = async (pathAndQuery: string) => {
    if (central.url().startsWith('https:')) throw new Error('api() speaks plain http only');
    const res = await fetch(`${central.url()}${pathAndQuery}`, {
      headers: { authorization: `Bearer ${apiToken}` },
    });
    return { status: res.status, body: await res.json() };
  };
  const enroll = async (id: string, credentialsFile?: string) => {
    const { token } = await central.registry.createEnrollmentToken({
      gatewayId: id,
      ttlSecs: 60,
      now: new Date(),
    });
    const dir = credentialsFile ? undefined : mkdtempSync(path.join(tmpdir(), 'siem-cred-'));
    const credentials = await enrollGateway({
      central: central.url(),
      token,
      gatewayId: id,
      credentialsFile: credentialsFile ?? path.join(dir!, 'credentials.json'),
      ...clientTls,
    });
    if (dir) rmSync(dir, { recursive: true, force: true });
    return credentials.private_key;
  };
  return {
    central,
    apiToken,
    admin: firstAdmin(printed),
    gatewayId,
    // A restarted central on the same database keeps the registry: reuse the key when given.
    privateKey: privateKey ?? (await enroll(gatewayId)),
    enroll,
    api,
    async events(query = '') {
      const { status, body } = await api(`/api/events?limit=1000${query ? `&${query}` : ''}`);
      if (status !== 200) throw new Error(`GET /api/events: ${status} ${JSON.stringify(body)}`);
      return (body as { events: Event[] }).events;
    },
  };
}

export interface TestGateway {
  gateway: Gateway;
  /** Events in through the pipeline, as a source named "test" would hand them. */
  emit(events: PendingEvent[]): Promise<void>;
  dataDir: string;
  /**
   * The first admin of the local API: from the password printed at the first start, or on a
   * restart (when nothing is printed) the `admin` option the test kept from that first start.
   */
  admin: { username: string; password: string };
  /** fetch() of the local API logged in as that admin (session cookie and CSRF token). */
  api(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  /** Port of the syslog source of that transport. */
  port(transport: 'udp' | 'tcp'): number;
  stop(): Promise<void>;
}

export async function startTestGateway(
  central: { linkUrl: string; gatewayId: string; privateKey: string },
  {
    dataDir = mkdtempSync(path.join(tmpdir(), 'siem-gw-')),
    syslog = true,
    keepData = false,
    heartbeatSecs = 10,
    queue = {} as Record<string, unknown>,
    detection = {} as Record<string, unknown>,
    sources = undefined as Record<string, unknown> | undefined,
    tls = undefined as { ca_file?: string; cert_file?: string; key_file?: string } | undefined,
    /** Extra keys of the gateway's `http` block (auth, dashboard_dir, device_history). */
    http = {} as Record<string, unknown>,
    /** The gateway's `pipeline:` (default: the OT-aware default). */
    pipeline = undefined as Record<string, unknown> | undefined,
    /** The first admin of an earlier start in the same `dataDir` (a restart prints no password). */
    admin: knownAdmin = undefined as { username: string; password: string } | undefined,
    /** Extra keys of the gateway's `central` block (batch_max_events, max_in_flight_batches). */
    central: centralExtra = {} as Record<string, unknown>,
  } = {},
): Promise<TestGateway> {
  const printed: string[] = [];
  const gateway = await startGateway(
    gatewayConfigSchema.parse({
      gateway: { id: central.gatewayId, data_dir: dataDir },
      sources:
        sources ??
        (syslog
          ? {
              syslog_udp: { type: 'syslog', mode: 'udp', listen: '127.0.0.1:0' },
              syslog_tcp: { type: 'syslog', mode: 'tcp', listen: '127.0.0.1:0' },
            }
          : {}),
      central: {
        endpoint: central.linkUrl,
        initial_backoff_secs: 0.05,
        max_backoff_secs: 0.5,
        heartbeat_interval_secs: heartbeatSecs,
        ...(tls && { tls }),
        ...centralExtra,
      },
      queue,
      detection,
      ...(pipeline && { pipeline }),
      http: { listen: '127.0.0.1:0', ...http },
      log: { level: LOG_LEVEL },
    }),
    {
      privateKey: central.privateKey,
      logger: gatewayLogger(LOG_LEVEL),
      processMetrics: false,
      printSecret: (text) => printed.push(text),
    },
  );
  const admin = knownAdmin ?? firstAdmin(printed);
  let session: Promise<{ cookie: string; csrf: string }> | undefined;
  const login = async () => {
    const res = await fetch(`${gateway.httpUrl()}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    if (res.status !== 200) throw new Error(`gateway login: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { csrf_token: string };
    return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: body.csrf_token };
  };
  return {
    gateway,
    admin,
    async api(pathAndQuery, init = {}) {
      session ??= login();
      const { cookie, csrf } = await session;
      const headers = new Headers(init.headers);
      headers.set('cookie', cookie);
      headers.set('x-csrf-token', csrf);
      return fetch(`${gateway.httpUrl()}${pathAndQuery}`, { ...init, headers });
    },
    emit: (events) => gateway.ingest('test', events),
    dataDir,
    port(transport) {
      for (const source of gateway.sources()) {
        const found = source.addresses().find((a) => a.transport === transport);
        if (found) return found.port;
      }
      throw new Error(`no ${transport} source`);
    },
    async stop() {
      await gateway.stop();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The first admin's credentials from what a server printed at its first start. */
function firstAdmin(printed: string[]): { username: string; password: string } {
  const match = /username "([^"]+)", password (\S+)/.exec(printed.join(''));
  return { username: match?.[1] ?? 'admin', password: match?.[2] ?? '' };
}

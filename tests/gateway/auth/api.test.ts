/**
 * The gateway's access control over real HTTP: the shared suite (tests/server-shared/web-auth/api-suite.ts)
 * against a real gateway (file store in its data dir), then what only the gateway has: the first
 * admin from `http.auth.first_admin`, a restart that neither prints nor recreates it, and a login
 * lockout that a restart does not lift.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gatewayConfigSchema } from '../../../gateway/config/schema.ts';
import { startGateway } from '../../../gateway/index.ts';
import { generateKeyPairSync } from 'node:crypto';
import { runWebAuthApiSuite, type AuthServer } from '../../server-shared/web-auth/api-suite.ts';
import { capturingLogger, movableClock } from '../../server-shared/web-auth/capture.ts';
import { createClient } from '../../server-shared/web-auth/client.ts';

const privateKey = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

async function startAuthGateway(dataDir: string, auth: Record<string, unknown> = {}) {
  const printed: string[] = [];
  const log = capturingLogger();
  const clock = movableClock();
  const gateway = await startGateway(
    gatewayConfigSchema.parse({
      gateway: { id: 'gw-auth', data_dir: dataDir },
      sources: {},
      // Nobody listens there: the gateway buffers, the local API is what is tested.
      central: { endpoint: 'ws://127.0.0.1:9/link', initial_backoff_secs: 5, max_backoff_secs: 5 },
      http: { listen: '127.0.0.1:0', auth },
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
  return { gateway, printed, log, clock };
}

runWebAuthApiSuite('gateway', async (o): Promise<AuthServer> => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-gw-auth-'));
  const { gateway, printed, log, clock } = await startAuthGateway(
    dataDir,
    o.passwordFile ? { first_admin: { password_file: o.passwordFile } } : {},
  );
  return {
    url: gateway.httpUrl(),
    cookieName: 'siem_gw_session',
    printed,
    logs: log.text,
    advance: clock.advance,
    now: () => clock.now().getTime(),
    async storageContains(text) {
      const dir = path.join(dataDir, 'auth');
      return readdirSync(dir).some((f) => readFileSync(path.join(dir, f), 'utf8').includes(text));
    },
    readPath: '/api/status',
    stop: async () => {
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

describe('gateway first admin', () => {
  it('takes its username from http.auth.first_admin and is created once across restarts', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-gw-auth-'));
    try {
      const first = await startAuthGateway(dataDir, { first_admin: { username: 'ot-lead' } });
      assert.equal(first.printed.length, 1);
      const password = /username "ot-lead", password (\S+)/.exec(first.printed[0]!)![1]!;
      await first.gateway.stop();
      const second = await startAuthGateway(dataDir, { first_admin: { username: 'ot-lead' } });
      try {
        assert.deepEqual(second.printed, [], 'nothing printed on a restart');
        const api = createClient(second.gateway.httpUrl(), 'siem_gw_session');
        assert.equal((await api.login('ot-lead', password)).status, 200, 'the same admin after a restart');
        assert.equal((await api.login('admin', password)).status, 401, 'no default admin');
      } finally {
        await second.gateway.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps a login lockout across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-gw-auth-'));
    try {
      const first = await startAuthGateway(dataDir, { first_admin: { username: 'ot-lead' } });
      const password = /username "ot-lead", password (\S+)/.exec(first.printed[0]!)![1]!;
      const api = createClient(first.gateway.httpUrl(), 'siem_gw_session');
      for (let i = 0; i < 5; i++) assert.equal((await api.login('ot-lead', `guess-${i}`)).status, 401);
      assert.equal((await api.login('ot-lead', password)).status, 429);
      await first.gateway.stop();
      // A restart clears the failure counters kept in memory, but not the lockout.
      const second = await startAuthGateway(dataDir, { first_admin: { username: 'ot-lead' } });
      try {
        const again = createClient(second.gateway.httpUrl(), 'siem_gw_session');
        const locked = await again.login('ot-lead', password);
        assert.equal(locked.status, 429, 'still locked after the restart');
        assert.ok(Number(locked.headers.get('retry-after')) > 800, 'with the time left');
        second.clock.advance(15 * 60_000 + 1000);
        assert.equal((await again.login('ot-lead', password)).status, 200, 'unlocked when it ends');
      } finally {
        await second.gateway.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a password_file others can read', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'siem-gw-auth-'));
    try {
      const file = path.join(dataDir, 'pw');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, 'readable-by-all-1234', { mode: 0o644 });
      await assert.rejects(
        startAuthGateway(path.join(dataDir, 'data'), { first_admin: { password_file: file } }),
        /password_file .* must not be readable by others/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

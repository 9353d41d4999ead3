/**
 * A PostgreSQL primary and a streaming replica of it, as two clusters of their own made by the
 * test in a temp directory (Debian's `postgresql` package: initdb, pg_basebackup -R, pg_ctl) on
 * free ports, never touching the main cluster at 5432. Run as the `postgres` user when the test
 * runs as root (initdb refuses root). Replication is synchronous (`synchronous_standby_names =
 * '*'`, `synchronous_commit = on`): a COMMIT returns only once the standby has flushed its WAL,
 * which is what makes "central acked it" mean "it survives losing the primary".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, type Missing, missingPackage } from './env.ts';

export interface PgNode {
  port: number;
  dir: string;
  /** `pg_ctl stop -m immediate`: the server crashes (no shutdown checkpoint), sockets close. */
  crash(): void;
  /** `pg_ctl promote -w`: a standby becomes the primary. */
  promote(): void;
  stop(): void;
}

export interface PgReplicaPair {
  primary: PgNode;
  replica: PgNode;
  /** libpq keyword form over both: `host=127.0.0.1,127.0.0.1 port=P,R … target_session_attrs=read-write`. */
  connectionString: string;
  /** A client on one node (database `siem`). */
  client(node: PgNode): Promise<pg.Client>;
  destroy(): void;
}

/** Where initdb and friends are (Debian keeps them off PATH), or why not. */
export function postgresBinDir(): string | Missing {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length > 0) return path.join(root, versions[0]!, 'bin');
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(path.join(bindir, 'initdb'))) return bindir;
  } catch {
    // No pg_config either.
  }
  return missingPackage('initdb', 'postgresql');
}

export async function startReplicaPair(bin: string): Promise<PgReplicaPair> {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-pgha-'));
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
      }
    : {};
  if (asRoot) chownSync(dir, ids.uid!, ids.gid!);
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(path.join(bin, tool), args, { ...ids, cwd: dir, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0)
      throw new Error(`${tool} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr || r.stdout}`);
  };
  const node = (name: string, port: number): PgNode => {
    const data = path.join(dir, name);
    return {
      port,
      dir: data,
      crash: () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
      promote: () => run('pg_ctl', ['-D', data, '-w', '-t', '60', 'promote']),
      stop: () => {
        if (existsSync(path.join(data, 'postmaster.pid')))
          spawnSync(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { ...ids });
      },
    };
  };
  const settings = (port: number) =>
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'shared_buffers = 16MB',
      'max_connections = 40',
      'wal_level = replica',
      'max_wal_senders = 4',
      'synchronous_commit = on',
      'wal_keep_size = 64MB',
    ].join('\n');

  const primary = node('primary', await freePort());
  const replica = node('replica', await freePort());
  try {
    // initdb's pg_hba.conf trusts local connections, replication included (-A trust).
    run('initdb', ['-D', primary.dir, '-U', 'postgres', '-A', 'trust', '--no-sync']);
    appendFileSync(path.join(primary.dir, 'postgresql.conf'), `\n${settings(primary.port)}\n`);
    run('pg_ctl', ['-D', primary.dir, '-l', path.join(dir, 'primary.log'), '-w', '-t', '60', 'start']);
    run('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      replica.dir,
      '-R',
      '-X',
      'stream',
      '--checkpoint=fast',
    ]);
    appendFileSync(
      path.join(replica.dir, 'postgresql.auto.conf'),
      `\nport = ${replica.port}\ncluster_name = 'replica1'\n`,
    );
    run('pg_ctl', ['-D', replica.dir, '-l', path.join(dir, 'replica.log'), '-w', '-t', '60', 'start']);
  } catch (error) {
    primary.stop();
    replica.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const client = async (n: PgNode, database = 'siem') => {
    const c = new pg.Client({ host: '127.0.0.1', port: n.port, user: 'postgres', database });
    await c.connect();
    return c;
  };
  // Synchronous from here on (set once the standby is attached, or every write would wait for it).
  let admin: pg.Client | undefined;
  try {
    admin = await client(primary, 'postgres');
    for (let i = 0; ; i += 1) {
      const { rows } = await admin.query("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'");
      if (rows.length > 0) break;
      if (i > 600) throw new Error('the replica never started streaming');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'replica1'");
    await admin.query('SELECT pg_reload_conf()');
    for (let i = 0; ; i += 1) {
      const { rows } = await admin.query("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'");
      if (rows.length > 0) break;
      if (i > 600) throw new Error('the replica never became synchronous');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await admin.query('CREATE DATABASE siem');
  } catch (error) {
    primary.stop();
    replica.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await admin?.end().catch(() => undefined);
  }
  // Servers started by pg_ctl outlive this process unless stopped: stop them however it ends.
  const onExit = () => {
    primary.stop();
    replica.stop();
  };
  process.once('exit', onExit);
  return {
    primary,
    replica,
    connectionString: `host=127.0.0.1,127.0.0.1 port=${primary.port},${replica.port} user=postgres dbname=siem target_session_attrs=read-write connect_timeout=5`,
    client: (n) => client(n),
    destroy() {
      process.off('exit', onExit);
      primary.stop();
      replica.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

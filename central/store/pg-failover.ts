/**
 * Multi-host PostgreSQL connection strings, as libpq reads them (PostgreSQL docs §34.1.1.3,
 * "Specifying Multiple Hosts"): `postgres://u@a:5432,b:5433/db?target_session_attrs=read-write`
 * or `host=a,b port=5432,5433 dbname=db target_session_attrs=read-write`. node-postgres takes one
 * host only, so central does what libpq does: each new connection tries the hosts in order,
 * starting from the one that last worked, and with `read-write` (or `primary`) it keeps only a
 * session where `SHOW transaction_read_only` is off, i.e. the primary. When the primary dies and a
 * standby is promoted, pooled connections to the old one fail and are dropped, and the next ones
 * find the new primary: nothing else in central needs to know.
 *
 * What a failed statement meant is unchanged: a transaction whose COMMIT got no answer is not
 * acknowledged (the link acks a batch only after COMMIT returned), and the gateway sends that
 * batch again; the store's ON CONFLICT (gateway, seq, ts) makes that harmless if it did commit.
 */
import pg from 'pg';

export interface PgTarget {
  host: string;
  port: number;
}

export interface PgConnectionPlan {
  /** One connection string per host, in the given order, each for node-postgres as it is. */
  urls: string[];
  targets: PgTarget[];
  /** Only a read-write session will do (`target_session_attrs=read-write` or `primary`). */
  readWrite: boolean;
  /** libpq's `connect_timeout`, in ms (per host); undefined: none given. */
  connectTimeoutMs: number | undefined;
}

const KEYWORD_RE = /^\s*[a-z_]+\s*=/;
/** libpq keywords that become parts of the URL; every other one goes to the query string. */
const URL_PARTS = new Set(['host', 'hostaddr', 'port', 'dbname', 'user', 'password']);

/** Splits `key=value key='quoted value'` (libpq keyword/value form, §34.1.1.1). */
function parseKeywords(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const space = () => {
    while (i < text.length && /\s/.test(text[i]!)) i += 1;
  };
  for (space(); i < text.length; space()) {
    const key = /^[a-z_]+/.exec(text.slice(i))?.[0];
    if (!key) throw new Error('cannot read the connection string');
    i += key.length;
    space();
    if (text[i] !== '=') throw new Error(`no value for ${key} in the connection string`);
    i += 1;
    space();
    let value = '';
    if (text[i] === "'") {
      for (i += 1; i < text.length && text[i] !== "'"; i += 1)
        value += text[i] === '\\' ? text[++i] : text[i];
      if (text[i] !== "'") throw new Error('unterminated quote in the connection string');
      i += 1;
    } else {
      for (; i < text.length && !/\s/.test(text[i]!); i += 1) value += text[i] === '\\' ? text[++i] : text[i];
    }
    out.set(key, value);
  }
  return out;
}

function hostPort(entry: string, defaultPort: string): PgTarget {
  const m = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(entry);
  if (!m || m[1] === '') throw new Error(`bad host "${entry}" in the connection string`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2] ?? defaultPort) };
}

/**
 * The hosts of a connection string and what each connection must be. A plain one-host URL gives
 * one URL, itself (apart from a target_session_attrs parameter, which node-postgres does not know).
 */
export function planConnections(connectionString: string): PgConnectionPlan {
  let userinfo = '';
  let database = '';
  let targets: PgTarget[];
  const params = new URLSearchParams();
  const keywords = KEYWORD_RE.test(connectionString) && !/^postgres(ql)?:\/\//.test(connectionString);
  if (keywords) {
    const kw = parseKeywords(connectionString);
    const hosts = (kw.get('host') ?? 'localhost').split(',');
    const ports = (kw.get('port') ?? '5432').split(',');
    if (ports.length !== 1 && ports.length !== hosts.length)
      throw new Error('the connection string gives a port per host, or one port for all');
    targets = hosts.map((h, i) => ({
      host: h.trim(),
      port: Number(ports.length === 1 ? ports[0] : ports[i]),
    }));
    const user = kw.get('user');
    const password = kw.get('password');
    if (user !== undefined)
      userinfo = `${encodeURIComponent(user)}${password !== undefined ? `:${encodeURIComponent(password)}` : ''}@`;
    database = kw.get('dbname') ?? '';
    for (const [k, v] of kw) if (!URL_PARTS.has(k)) params.set(k, v);
  } else {
    const m = /^(postgres(?:ql)?):\/\/(?:([^@/]*)@)?([^/?]*)(\/[^?]*)?(?:\?(.*))?$/.exec(connectionString);
    if (!m) throw new Error('the connection string is neither a postgres:// URL nor key=value pairs');
    userinfo = m[2] !== undefined ? `${m[2]}@` : '';
    targets = (m[3] ?? '').split(',').map((entry) => hostPort(entry, '5432'));
    database = decodeURIComponent((m[4] ?? '').replace(/^\//, ''));
    for (const [k, v] of new URLSearchParams(m[5] ?? '')) params.set(k, v);
  }
  for (const t of targets)
    if (!t.host || !Number.isInteger(t.port) || t.port < 1 || t.port > 65_535)
      throw new Error('bad host or port in the connection string');
  const attrs = params.get('target_session_attrs') ?? 'any';
  if (!['any', 'read-write', 'primary'].includes(attrs))
    throw new Error(`target_session_attrs=${attrs} is not supported (any, read-write or primary)`);
  params.delete('target_session_attrs');
  const timeout = params.get('connect_timeout');
  params.delete('connect_timeout');
  const query = params.toString();
  const urls = targets.map(
    (t) =>
      `postgresql://${userinfo}${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}/${encodeURIComponent(database)}${query ? `?${query}` : ''}`,
  );
  // One host in URL form and nothing to take out: the string exactly as given, as before.
  const asGiven = targets.length === 1 && !keywords && attrs === 'any' && timeout === null;
  return {
    urls: asGiven ? [connectionString] : urls,
    targets,
    readWrite: attrs !== 'any',
    connectTimeoutMs: timeout && Number(timeout) > 0 ? Number(timeout) * 1000 : undefined,
  };
}

/** Marks an error as "this host will not do": the pool tries the next one. */
class TargetError extends Error {
  readonly target = true;
}

export interface FailoverPoolOptions {
  connectionString: string;
  max: number;
  /** PostgreSQL's `idle_in_transaction_session_timeout` for every connection of the pool, in ms. */
  idleInTransactionMs?: number;
  /** When a new connection went to another host than the last one (for logs and metrics). */
  onSwitch?: (to: PgTarget, why: string) => void;
}

/**
 * A pg.Pool over the hosts of a connection string: every new connection goes to the host that
 * last worked, or the next ones in turn; a checkout retries across all hosts before it fails.
 */
export function createFailoverPool(options: FailoverPoolOptions): pg.Pool {
  const plan = planConnections(options.connectionString);
  // Sent in each connection's startup packet (a parameter of node-postgres' client config).
  const session = options.idleInTransactionMs
    ? { idle_in_transaction_session_timeout: options.idleInTransactionMs }
    : {};
  if (plan.urls.length === 1 && !plan.readWrite)
    return new pg.Pool({ connectionString: plan.urls[0], max: options.max, keepAlive: true, ...session });
  let current = 0;
  const advance = (from: number, why: string) => {
    // Several connections may fail at once: only the first moves on.
    if (current !== from) return;
    current = (current + 1) % plan.urls.length;
    options.onSwitch?.(plan.targets[current]!, why);
  };

  class TargetClient extends pg.Client {
    readonly index: number;
    constructor(config: pg.ClientConfig = {}) {
      const index = current;
      super({ ...config, connectionString: plan.urls[index] });
      this.index = index;
    }

    async connectChecked(): Promise<void> {
      try {
        await (pg.Client.prototype.connect as (this: pg.Client) => Promise<unknown>).call(this);
      } catch (error) {
        advance(this.index, (error as Error).message);
        throw new TargetError(`${targetName(plan.targets[this.index]!)}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (!plan.readWrite) return;
      // libpq's check for read-write (§34.1.2 target_session_attrs): transaction_read_only is off.
      const { rows } = await this.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
      if (rows[0]?.transaction_read_only !== 'off') {
        advance(this.index, 'read-only (a standby)');
        await this.end().catch(() => undefined);
        throw new TargetError(`${targetName(plan.targets[this.index]!)} is read-only (a standby)`);
      }
    }
  }
  // pg-pool connects with a callback; awaiting callers get the promise. (Assigned, not declared
  // in the class: pg's overloads of connect() cannot be overridden with one signature.)
  TargetClient.prototype.connect = function (this: TargetClient, callback?: (err: Error) => void) {
    const run = this.connectChecked();
    if (!callback) return run;
    run.then(
      () => callback(undefined as never),
      (error: Error) => callback(error),
    );
  } as pg.Client['connect'];

  class FailoverPool extends pg.Pool {
    override connect(): Promise<pg.PoolClient>;
    override connect(
      callback: (
        err: Error | undefined,
        client: pg.PoolClient | undefined,
        done: (release?: unknown) => void,
      ) => void,
    ): void;
    override connect(
      callback?: (
        err: Error | undefined,
        client: pg.PoolClient | undefined,
        done: (release?: unknown) => void,
      ) => void,
    ): Promise<pg.PoolClient> | void {
      const run = (async () => {
        let last: unknown;
        for (let attempt = 0; attempt < plan.urls.length; attempt += 1) {
          try {
            return await super.connect();
          } catch (error) {
            if (!(error instanceof TargetError) && !isConnectFailure(error)) throw error;
            last = error;
          }
        }
        throw new Error(
          `no ${plan.readWrite ? 'read-write ' : ''}PostgreSQL among ${plan.targets.map(targetName).join(', ')}`,
          {
            cause: last,
          },
        );
      })();
      if (!callback) return run;
      run.then(
        (client) => callback(undefined, client, (release) => client.release(release as Error)),
        (error: Error) => callback(error, undefined, () => undefined),
      );
    }
  }

  return new FailoverPool({
    Client: TargetClient,
    max: options.max,
    keepAlive: true,
    ...session,
    // Per host, as libpq's connect_timeout: a host that does not answer must not stall the others.
    connectionTimeoutMillis: plan.connectTimeoutMs ?? 5000,
  });
}

/** A connection timeout of the pool (its own error, not ours). */
function isConnectFailure(error: unknown): boolean {
  return (
    error instanceof Error &&
    /connection timeout|timeout exceeded when trying to connect/i.test(error.message)
  );
}

function targetName(t: PgTarget): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/**
 * One client (not pooled) on the read-write host of a connection string, for what needs a
 * connection of its own (LISTEN, session advisory locks). Tries every host in turn.
 */
export async function connectPrimary(connectionString: string): Promise<pg.Client> {
  return (await connectPrimaryAt(connectionString)).client;
}

async function connectPrimaryAt(connectionString: string): Promise<{ client: pg.Client; url: string }> {
  const plan = planConnections(connectionString);
  const errors: string[] = [];
  for (const url of plan.urls) {
    const client = new pg.Client({
      connectionString: url,
      keepAlive: true,
      connectionTimeoutMillis: plan.connectTimeoutMs ?? 5000,
    });
    try {
      await client.connect();
      if (plan.readWrite) {
        const { rows } = await client.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
        if (rows[0]?.transaction_read_only !== 'off') throw new Error('read-only (a standby)');
      }
      return { client, url };
    } catch (error) {
      errors.push(`${new URL(url).host}: ${(error as Error).message}`);
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`no usable PostgreSQL: ${errors.join('; ')}`);
}

/**
 * The single-host URL of the read-write server, for code that makes its own pg.Client (the
 * cluster's LISTEN connection and leader lock): the string itself when it names one host and asks
 * for no read-write session, else the first host that answers read-write (a short probe).
 */
export async function primaryUrl(connectionString: string): Promise<string> {
  const plan = planConnections(connectionString);
  if (plan.urls.length === 1 && !plan.readWrite) return plan.urls[0]!;
  const { client, url } = await connectPrimaryAt(connectionString);
  await client.end().catch(() => undefined);
  return url;
}

/**
 * The data set the central search benchmark queries: `rows` syslog-like events spread evenly over
 * the 24 hours before its `end`, in the store's own schema and partitions, with the indexes the
 * store builds at ingest and on each closed hour (closed-indexes.ts), vacuumed and analysed.
 * Building 10,000,000 rows takes minutes on 2 cores, so the full run keeps it in a database of its
 * own (`bench_search` on the local server, or SIEM_BENCH_SEARCH_DB) and reuses it while its schema
 * and size are unchanged; queries are relative to the stored `end`, so a day-old set measures the
 * same thing. The hour holding `end` is left open (not yet indexed), as on a live central. A set
 * reused after a migration that moved indexes to the closed partitions (019) gets them built by
 * the store's own builder before it is searched.
 */
import pg from 'pg';
import { loadMigrations, migrate } from '../../../central/store/migrate.ts';
import { createPostgresStore } from '../../../central/store/postgres.ts';
import type { EventStore } from '../../../central/store/types.ts';

const ADMIN_URL = process.env.SIEM_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface SearchData {
  store: EventStore;
  /** End of the 24 hours the rows cover (ms). */
  end: number;
  rows: number;
  /** Seconds spent building it in this run (0 when reused). */
  buildSecs: number;
  close(): Promise<void>;
}

function url(database: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Rows `first..last` of gateway bench-search, evenly over [from, to) ms, shaped like the link's events. */
const FILL_SQL = `INSERT INTO events (id, gateway, seq, ts, received, source, kind, action, severity, message,
    host, device_id, src_ip, src_port, fields, v)
  SELECT 'bench-search:' || i, 'bench-search', i, t.ts, t.ts, 'syslog',
    CASE WHEN i % 10 = 0 THEN 'security' ELSE 'telemetry' END, 'syslog.message', i % 8,
    '%LINK-3-UPDOWN: Interface Gi1/0/' || (i % 48) || ' changed state to '
      || CASE WHEN i % 2 = 1 THEN 'up' ELSE 'down' END || ' seq ' || i,
    'plc-' || (i % 50), 'syslog:plc-' || (i % 50), '10.0.' || (i % 4) || '.' || (i % 250), 514,
    '{"facility": 23, "app_name": "ifmgr"}', 1
  FROM generate_series($1::bigint, $2::bigint) AS i,
    LATERAL (SELECT to_timestamp(($3::bigint + (i - $1::bigint) * ($4::bigint - $3::bigint) / ($2::bigint - $1::bigint + 1)) / 1000.0) AS ts) t`;

/**
 * Opens the data set in `database` (reused when it matches `rows` and the current migrations),
 * or builds it there; `temporary` drops the database on close.
 */
export async function openSearchData(
  database: string,
  rows: number,
  { temporary = false, log = (_: string) => {} } = {},
): Promise<SearchData> {
  const schema = Math.max(...(await loadMigrations()).map((m) => m.version));
  /** The last migration that changed `events`: a set built at or after it is still valid (later ones are applied). */
  const EVENTS_SCHEMA = 12;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const exists =
    (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rows.length > 0;
  let meta: { end: number; rows: number; schema: number } | undefined;
  if (exists) {
    const c = new pg.Client({ connectionString: url(database) });
    await c.connect();
    try {
      const { rows: found } = await c.query<{ end_ms: string; rows: string; schema: number }>(
        'SELECT end_ms, rows, schema FROM bench_search_meta',
      );
      if (found[0])
        meta = { end: Number(found[0].end_ms), rows: Number(found[0].rows), schema: found[0].schema };
    } catch {
      meta = undefined;
    } finally {
      await c.end();
    }
  }
  let buildSecs = 0;
  if (!meta || meta.rows !== rows || meta.schema < EVENTS_SCHEMA) {
    const started = performance.now();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
    const end = Date.now();
    const store = await createPostgresStore({ connectionString: url(database), indexIntervalMs: 0 });
    await store.init(new Date(end));
    // Hour by hour, two connections at once, through the store's own ingest indexes.
    const hours: Array<{ from: number; to: number; first: number; last: number }> = [];
    const from = end - DAY_MS;
    for (let h = 0; h < 24; h++) {
      const first = Math.round((rows * h) / 24) + 1;
      const last = Math.round((rows * (h + 1)) / 24);
      hours.push({ from: from + h * HOUR_MS, to: from + (h + 1) * HOUR_MS, first, last });
    }
    const workers = [0, 1].map(async () => {
      const c = new pg.Client({ connectionString: url(database) });
      await c.connect();
      for (let hour = hours.shift(); hour; hour = hours.shift()) {
        await c.query(FILL_SQL, [hour.first, hour.last, hour.from, hour.to]);
        log(`search data: rows up to ${hour.last.toLocaleString('en-US')} stored`);
      }
      await c.end();
    });
    await Promise.all(workers);
    const created = await store.indexClosedPartitions(new Date(end));
    log(`search data: ${created.length} closed-partition indexes built`);
    await store.sql.query('VACUUM ANALYZE events');
    await store.sql.query('CREATE TABLE bench_search_meta (end_ms bigint, rows bigint, schema integer)');
    await store.sql.query('INSERT INTO bench_search_meta VALUES ($1, $2, $3)', [end, rows, schema]);
    await store.close();
    meta = { end, rows, schema };
    buildSecs = (performance.now() - started) / 1000;
  }
  await admin.end();
  const store = await createPostgresStore({ connectionString: url(database), indexIntervalMs: 0 });
  if (buildSecs === 0) {
    // Migrations added since the set was built; those that moved indexes off the open hour (019)
    // leave their closed partitions to the store's builder, run here as a live central would.
    const applied = await migrate(store.sql);
    const started = performance.now();
    const created = await store.indexClosedPartitions(new Date(meta.end));
    if (created.length > 0) {
      await store.sql.query('ANALYZE events');
      buildSecs = (performance.now() - started) / 1000;
      log(
        `search data: migrations ${applied.join(', ')} applied, ${created.length} closed-partition indexes built in ${buildSecs.toFixed(0)} s`,
      );
    }
  }
  return {
    store,
    end: meta.end,
    rows: meta.rows,
    buildSecs,
    async close() {
      await store.close();
      if (!temporary) return;
      const drop = new pg.Client({ connectionString: ADMIN_URL });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await drop.end();
    },
  };
}

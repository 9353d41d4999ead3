/**
 * Ends the COPY of a central node that hung while feeding it (a paused VM, a stopped process).
 * PostgreSQL ends a session idle inside a transaction by itself (`storage.stalled_session_secs`
 * is its idle_in_transaction_session_timeout), but a `COPY … FROM STDIN` waiting for its client's
 * data is not idle, and PostgreSQL does not act on a statement timeout while it waits for the
 * client: the session and the rows it has copied (their unique keys, which the same batch sent
 * again to another node waits for) would stay until the hung node's connection dies, which for a
 * paused VM can be hours. Such a backend also holds up every CREATE and DROP DATABASE of the
 * server (they wait for each backend to accept a ProcSignalBarrier, which one waiting for its
 * client never does), other databases' included. So every node looks, every quarter of
 * `stalled_session_secs` and at once when its insert found rows held, for central's own COPY
 * statements still waiting for their client (`wait_event = 'ClientRead'`) after
 * `stalled_session_secs`, far longer than a well node's COPY of a batch takes, and ends them.
 * Ending another session needs the same role or `pg_signal_backend` (docs/high-availability.md).
 */
import { COPY_STATEMENTS } from './event-copy.ts';
import type { SqlExecutor } from './sql-client.ts';

const ENDED_SQL = `WITH stalled AS MATERIALIZED (
    SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND state = 'active' AND wait_event = 'ClientRead'
       AND query = ANY($1::text[])
       AND query_start < now() - make_interval(secs => $2::double precision)
  )
  SELECT pid, pg_terminate_backend(pid) AS ended FROM stalled`;

export interface StalledCopies {
  /** Looks, at most once per `everyMs`, and ends what it finds; never throws. */
  sweep(): void;
  /** How often a sweep may look. */
  readonly everyMs: number;
}

export function stalledCopies(
  db: SqlExecutor,
  stalledMs: number,
  report: (message: string) => void,
  everyMs = Math.max(1000, stalledMs / 4),
): StalledCopies {
  let last = -Infinity;
  let refused = false;
  return {
    everyMs,
    sweep() {
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      db.query<{ pid: number; ended: boolean }>(ENDED_SQL, [COPY_STATEMENTS, stalledMs / 1000]).then(
        ({ rows }) => {
          const ended = rows.filter((r) => r.ended);
          if (ended.length > 0)
            report(
              `ended ${ended.length} central connection(s) whose COPY had waited for its node over ${stalledMs / 1000} s (a hung node; its gateway sends the batch again): pid ${ended.map((r) => r.pid).join(', ')}`,
            );
        },
        (error: Error) => {
          if (refused) return;
          refused = true;
          report(`cannot end a central connection stalled in a COPY: ${error.message}`);
        },
      );
    },
  };
}

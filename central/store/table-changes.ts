/**
 * Store-level change notices, for whatever a central node keeps in memory of a table (the playbook
 * list, the central rules its detection runs). A store that writes such a table announces it in
 * the writing transaction, `NOTIFY siem_table_changed, '<table>'`: PostgreSQL delivers it when the
 * write commits, to every node listening on the channel (central/cluster/bus.ts), in commit order
 * with the cluster's other messages. The node that wrote is told in process as soon as the write
 * committed, so its own caches never serve the old rows after its own change. The payload is
 * `<table>:<writer>`, `writer` a random id of this process's notices: a listening node skips its
 * own (`heard`), so each change reloads a cache once per node, while every other writer's notice,
 * concurrent or not, is heard (a payload without a writer, too). Caches subscribe by table name;
 * after notices may have been missed (the listening connection was lost), every subscriber is told.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SqlClient, SqlExecutor } from './sql-client.ts';

export const TABLE_CHANGES_CHANNEL = 'siem_table_changed';

/** The tables whose changes are announced. */
export const CHANGE_TABLES = ['playbooks', 'rules'] as const;
export type ChangeTable = (typeof CHANGE_TABLES)[number];

export const isChangeTable = (name: string): name is ChangeTable =>
  (CHANGE_TABLES as readonly string[]).includes(name);

export function createTableChanges() {
  const emitter = new EventEmitter<Record<ChangeTable, []>>();
  const changed = (table: ChangeTable) => emitter.emit(table);
  const writer = randomUUID();
  return {
    /** Runs `fn` after every change of `table`, made here or on another node; returns the unsubscribe. */
    on(table: ChangeTable, fn: () => void): () => void {
      emitter.on(table, fn);
      return () => emitter.off(table, fn);
    },
    /** A change of `table` announced by another node. */
    changed,
    /** A notice heard on the channel: a change of another writer is told; this one's own, already told, not. */
    heard(payload: string): void {
      const at = payload.indexOf(':');
      const table = at < 0 ? payload : payload.slice(0, at);
      if (isChangeTable(table) && (at < 0 || payload.slice(at + 1) !== writer)) changed(table);
    },
    /** Every table may have changed: notices were missed while the node was not listening. */
    all(): void {
      for (const table of CHANGE_TABLES) changed(table);
    },
    /**
     * Runs `write` in a transaction that announces a change of `table` when `wrote` says the write
     * changed something (default: always), then tells this node's subscribers once it committed.
     */
    async write<T>(
      sql: SqlClient,
      table: ChangeTable,
      write: (tx: SqlExecutor) => Promise<T>,
      wrote: (result: T) => boolean = () => true,
    ): Promise<T> {
      let announced = false;
      const result = await sql.transaction(async (tx) => {
        const r = await write(tx);
        if (wrote(r)) {
          await tx.query('SELECT pg_notify($1, $2)', [TABLE_CHANGES_CHANNEL, `${table}:${writer}`]);
          announced = true;
        }
        return r;
      });
      if (announced) changed(table);
      return result;
    },
  };
}

export type TableChanges = ReturnType<typeof createTableChanges>;

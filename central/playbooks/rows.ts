/**
 * What the playbook stores (store.ts, run-store.ts, audit-store.ts) share to read rows: timestamps
 * as ISO strings, JSON columns as values (parsed when a driver hands them back as text).
 */
export type Row = Record<string, unknown>;

export const iso = (d: unknown): string | null => (d ? new Date(d as string).toISOString() : null);
export const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/**
 * The `reports` table (migration 015) read back: a report's row as the API shows it (status,
 * summary, which formats it has, deliveries), the list newest first, one file of a report, and
 * a finished report's files for a delivery tried again.
 */
import type { SqlExecutor } from '../store/sql-client.ts';
import type { ReportFiles } from './deliver.ts';

export interface ReportRow {
  id: number;
  schedule: string | null;
  period: 'daily' | 'weekly' | 'custom';
  scope: string;
  time_zone: string;
  period_start: string;
  period_end: string;
  status: 'running' | 'done' | 'failed';
  title: string;
  claimed_by: string;
  requested_by: string | null;
  created_at: string;
  finished_at: string | null;
  formats: { html: boolean; csv: boolean; pdf: boolean };
  pdf_error: string | null;
  summary: Record<string, unknown>;
  delivery: Record<string, { ok: boolean; at: string; tries: number; error?: string }>;
  error: string | null;
}

export const ROW_COLUMNS = `id::int AS id, schedule, period, scope, time_zone,
  to_char(period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS period_start,
  to_char(period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS period_end,
  status, claimed_by, requested_by,
  to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS finished_at,
  html IS NOT NULL AS has_html, csv IS NOT NULL AS has_csv, pdf IS NOT NULL AS has_pdf,
  pdf_error, summary, delivery, error`;

export type RawRow = Omit<ReportRow, 'formats' | 'title'> & {
  has_html: boolean;
  has_csv: boolean;
  has_pdf: boolean;
};

export function toRow(r: RawRow): ReportRow {
  const { has_html, has_csv, has_pdf, ...rest } = r;
  const summary = (typeof r.summary === 'string' ? JSON.parse(r.summary) : r.summary) as Record<
    string,
    unknown
  >;
  const delivery = (
    typeof r.delivery === 'string' ? JSON.parse(r.delivery) : r.delivery
  ) as ReportRow['delivery'];
  return {
    ...rest,
    title: typeof summary.title === 'string' ? summary.title : `${r.period} report — ${r.scope}`,
    formats: { html: has_html, csv: has_csv, pdf: has_pdf },
    summary,
    delivery,
  };
}

export function basename(scope: string, kind: string, label: string): string {
  return `report-${scope}-${kind}-${label.replace(/[^0-9A-Za-z-]+/g, '_')}`;
}

export async function getReport(sql: SqlExecutor, id: number): Promise<ReportRow | undefined> {
  const { rows } = await sql.query<RawRow>(`SELECT ${ROW_COLUMNS} FROM reports WHERE id = $1`, [id]);
  return rows[0] && toRow(rows[0]);
}

export async function listReports(sql: SqlExecutor, limit: number, beforeId?: number): Promise<ReportRow[]> {
  const { rows } = await sql.query<RawRow>(
    `SELECT ${ROW_COLUMNS} FROM reports WHERE ($1::bigint IS NULL OR id < $1::bigint) ORDER BY id DESC LIMIT $2`,
    [beforeId ?? null, limit],
  );
  return rows.map(toRow);
}

/** One file of a report with its row; undefined when there is no such report or file. */
export async function reportFile(
  sql: SqlExecutor,
  id: number,
  format: 'html' | 'csv' | 'pdf',
): Promise<{ body: string | Uint8Array; row: ReportRow } | undefined> {
  // `format` is one of three column names, never caller text.
  const { rows } = await sql.query<RawRow & { body: string | Uint8Array | null }>(
    `SELECT ${ROW_COLUMNS}, ${format} AS body FROM reports WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r || r.body === null) return undefined;
  return { body: r.body, row: toRow(r) };
}

/** The stored files of a finished report, for a delivery tried again. */
export async function storedFiles(sql: SqlExecutor, id: number): Promise<ReportFiles | undefined> {
  const { rows } = await sql.query<RawRow & { html: string; csv: string; pdf: Uint8Array | null }>(
    `SELECT ${ROW_COLUMNS}, html, csv, pdf FROM reports WHERE id = $1 AND status = 'done'`,
    [id],
  );
  const r = rows[0];
  if (!r) return undefined;
  const row = toRow(r);
  const label = typeof row.summary.label === 'string' ? row.summary.label : row.period_start.slice(0, 10);
  return {
    id,
    title: row.title,
    basename: basename(row.scope, row.period, label),
    formats: ['html', 'pdf', 'csv'],
    html: r.html,
    csv: r.csv,
    pdf: r.pdf ? Buffer.from(r.pdf) : null,
    pdfError: row.pdf_error,
    meta: {
      period: row.period,
      scope: row.scope,
      time_zone: row.time_zone,
      period_start: row.period_start,
      period_end: row.period_end,
      label,
      totals: row.summary,
    },
  };
}

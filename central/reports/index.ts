/**
 * Central's reports service: makes a report (figures from data.ts, HTML and CSV from render.ts,
 * the PDF from pdf.ts), keeps it in the `reports` table (migration 015) for download, and runs
 * the schedules of `reports.schedules`. Every `check_interval_secs` each central node works out
 * the periods each schedule owes (period.ts `duePeriods`: the latest complete one and up to
 * `catch_up_periods` missed before it) and claims each by inserting its row: INSERT … ON CONFLICT
 * DO NOTHING on (schedule, period_start), so with several nodes on one database exactly one makes
 * and sends it. A claim still running after `stale_claim_secs` (its node died) is taken over;
 * a failed one is retried up to three attempts. Nothing here throws at its caller's loop:
 * failures are logged, counted and kept with the report.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { SqlClient } from '../store/sql-client.ts';
import type { ReportSchedule, ReportsConfig } from './config.ts';
import { collectReportData, type ReportScope } from './data.ts';
import { deliverReport, destinationSecret, type ReportFiles } from './deliver.ts';
import { createPdfPrinter, type PdfPrinter } from './pdf.ts';
import { duePeriods, type Period, periodLabel } from './period.ts';
import { renderCsv, renderHtml, reportTitle } from './render.ts';
import { basename, getReport, listReports, type ReportRow, reportFile, storedFiles } from './store.ts';

export type { ReportRow };

const MAX_ATTEMPTS = 3;
/** Tries of one delivery (the first included). */
const MAX_DELIVERY_TRIES = 3;
/** On-demand reports being made at once on one node; more are refused (429). */
export const MAX_ON_DEMAND = 2;

export interface ReportsOptions {
  config: ReportsConfig;
  sql: SqlClient;
  /** This node's name in claims (central.id plus something unique per process is best). */
  node: string;
  centralId: string;
  logger: Logger;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
  printer?: PdfPrinter;
  /** Central's metrics registry: `siem_central_reports_total{outcome}` is registered on it. */
  registry?: Registry;
}

export function createReports(options: ReportsOptions) {
  const { config, sql, logger } = options;
  const now = options.now ?? (() => new Date());
  const printer = options.printer ?? createPdfPrinter(config.chromium_path);
  const env = options.env ?? process.env;
  // A destination whose secret is missing fails start, naming its key (as sinks do).
  for (const [name, destination] of Object.entries(config.destinations)) {
    destinationSecret(name, destination, env);
    if (destination.type === 'webhook' && destination.allow_private_addresses)
      logger.warn(
        { destination: name },
        `reports.destinations.${name}.allow_private_addresses is deprecated: it allows every loopback and private address; list the receiver in allow_addresses instead`,
      );
  }
  const counter = new Counter({
    name: 'siem_central_reports_total',
    help: 'Reports made (done), failed, and deliveries that failed.',
    labelNames: ['outcome'],
    registers: options.registry ? [options.registry] : [],
  });
  const count = (outcome: 'done' | 'failed' | 'delivery_failed') => counter.inc({ outcome });
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let onDemand = 0;
  const inFlight = new Set<Promise<unknown>>();

  function scopeOf(name: string): ReportScope | undefined {
    if (name === 'fleet') return { name: 'fleet', title: 'Fleet', gateways: null };
    const site = config.sites.find((s) => s.name === name);
    return site && { name: site.name, title: site.title ?? site.name, gateways: site.gateways };
  }

  /** Makes the report of row `id` and stores it; returns its formats for delivery. */
  async function make(id: number, period: Period, scope: ReportScope): Promise<ReportFiles> {
    const label = periodLabel(period);
    const data = await collectReportData({
      sql,
      period,
      label,
      scope,
      bufferedAfterSecs: config.buffered_after_secs,
      centralId: options.centralId,
      now: now(),
    });
    const title = reportTitle(data);
    const html = renderHtml(data);
    const csv = renderCsv(data);
    const printed = await printer.print(html, title);
    const summary = { title, label, ...data.totals };
    await sql.query(
      `UPDATE reports SET status = 'done', html = $2, csv = $3, pdf = $4, pdf_error = $5, summary = $6::jsonb,
              error = NULL, finished_at = now() WHERE id = $1`,
      [
        id,
        html,
        csv,
        printed.ok ? printed.pdf : null,
        printed.ok ? null : printed.error,
        JSON.stringify(summary),
      ],
    );
    if (!printed.ok) logger.warn({ report: id, err: printed.error }, 'report without PDF');
    count('done');
    return {
      id,
      title,
      basename: basename(scope.name, period.kind, label),
      formats: ['html', 'pdf', 'csv'],
      html,
      csv,
      pdf: printed.ok ? printed.pdf : null,
      pdfError: printed.ok ? null : printed.error,
      meta: {
        period: period.kind,
        scope: scope.name,
        time_zone: period.timeZone,
        period_start: period.start.toISOString(),
        period_end: period.end.toISOString(),
        label,
        totals: data.totals,
      },
    };
  }

  async function fail(id: number, error: Error): Promise<void> {
    logger.error({ report: id, err: error.message }, 'report failed');
    count('failed');
    await sql
      .query(`UPDATE reports SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, [
        id,
        error.message.slice(0, 500),
      ])
      .catch(() => undefined);
  }

  /** Claims (schedule, period) for this node: a new row, a stale running one, or a failed one to retry. */
  async function claim(schedule: ReportSchedule, period: Period): Promise<number | undefined> {
    const inserted = await sql.query<{ id: number }>(
      `INSERT INTO reports (schedule, period, scope, time_zone, period_start, period_end, claimed_by)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7)
       ON CONFLICT (schedule, period_start) WHERE schedule IS NOT NULL DO NOTHING
       RETURNING id::int AS id`,
      [
        schedule.name,
        schedule.period,
        schedule.scope,
        period.timeZone,
        period.start.toISOString(),
        period.end.toISOString(),
        options.node,
      ],
    );
    if (inserted.rows[0]) return Number(inserted.rows[0].id);
    const taken = await sql.query<{ id: number }>(
      `UPDATE reports SET status = 'running', claimed_by = $3, claimed_at = now(), attempts = attempts + 1,
              error = NULL, finished_at = NULL
        WHERE schedule = $1 AND period_start = $2::timestamptz AND attempts < ${MAX_ATTEMPTS}
          AND ((status = 'running' AND claimed_at < now() - make_interval(secs => $4::float8))
            OR (status = 'failed' AND finished_at < now() - make_interval(secs => $5::float8)))
        RETURNING id::int AS id`,
      [
        schedule.name,
        period.start.toISOString(),
        options.node,
        config.stale_claim_secs,
        Math.min(config.stale_claim_secs, 300),
      ],
    );
    return taken.rows[0] ? Number(taken.rows[0].id) : undefined;
  }

  async function runSchedule(schedule: ReportSchedule, at: Date): Promise<number[]> {
    const made: number[] = [];
    const scope = scopeOf(schedule.scope);
    if (!scope) return made;
    const tz = schedule.time_zone ?? config.time_zone;
    for (const period of duePeriods(
      schedule.period,
      at.getTime(),
      tz,
      schedule.delay_secs * 1000,
      schedule.catch_up_periods,
    )) {
      const id = await claim(schedule, period);
      if (id === undefined) continue;
      made.push(id);
      let files;
      try {
        files = await make(id, period, scope);
      } catch (error) {
        await fail(id, error as Error);
        continue;
      }
      await deliver(id, files, schedule, {});
      logger.info({ report: id, schedule: schedule.name, period: periodLabel(period) }, 'report made');
    }
    return made;
  }

  /**
   * Sends the report to the schedule's destinations not yet reached (all of them the first
   * time), records each outcome with its try count, and renews the row's lease.
   */
  async function deliver(
    id: number,
    files: ReportFiles,
    schedule: ReportSchedule,
    before: ReportRow['delivery'],
  ): Promise<void> {
    const delivery: ReportRow['delivery'] = { ...before };
    for (const name of schedule.deliver_to) {
      const destination = config.destinations[name];
      const previous = delivery[name];
      if (!destination || previous?.ok || (previous && previous.tries >= MAX_DELIVERY_TRIES)) continue;
      const outcome = await deliverReport(name, destination, { ...files, formats: schedule.formats }, env);
      delivery[name] = {
        ok: outcome.ok,
        at: new Date().toISOString(),
        tries: (previous?.tries ?? 0) + 1,
        ...(!outcome.ok && { error: outcome.error }),
      };
      if (!outcome.ok) {
        count('delivery_failed');
        logger.warn({ report: id, destination: name, err: outcome.error }, 'report delivery failed');
      }
    }
    await sql.query(`UPDATE reports SET delivery = $2::jsonb, claimed_at = now() WHERE id = $1`, [
      id,
      JSON.stringify(delivery),
    ]);
  }

  /** Tries failed deliveries of finished scheduled reports again, leasing each row first. */
  async function retryDeliveries(): Promise<void> {
    const { rows } = await sql.query<{ id: number; schedule: string }>(
      `UPDATE reports SET claimed_by = $1, claimed_at = now()
        WHERE id IN (
          SELECT id FROM reports
           WHERE schedule IS NOT NULL AND status = 'done'
             AND claimed_at < now() - make_interval(secs => $2::float8)
             AND EXISTS (SELECT 1 FROM jsonb_each(delivery) d
                          WHERE d.value->>'ok' = 'false' AND coalesce((d.value->>'tries')::int, 1) < $3)
           ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED)
        RETURNING id::int AS id, schedule`,
      [options.node, config.delivery_retry_secs, MAX_DELIVERY_TRIES],
    );
    for (const r of rows) {
      const schedule = config.schedules.find((s) => s.name === r.schedule);
      const files = await storedFiles(sql, Number(r.id));
      const row = await get(Number(r.id));
      if (!schedule || !files || !row) continue;
      await deliver(Number(r.id), files, schedule, row.delivery);
    }
  }

  const get = (id: number) => getReport(sql, id);

  /** One pass over every schedule at `at` (default: now); returns the ids this node made. */
  async function tick(at: Date = now()): Promise<number[]> {
    const made: number[] = [];
    for (const schedule of config.schedules) {
      try {
        made.push(...(await runSchedule(schedule, at)));
      } catch (error) {
        logger.error({ schedule: schedule.name, err: (error as Error).message }, 'report schedule failed');
      }
    }
    // An on-demand report whose node stopped while making it will never finish: say so.
    await sql
      .query(
        `UPDATE reports SET status = 'failed', error = 'its central node stopped before it was made', finished_at = now()
          WHERE schedule IS NULL AND status = 'running' AND claimed_at < now() - make_interval(secs => $1::float8)`,
        [config.stale_claim_secs],
      )
      .catch(() => undefined);
    await retryDeliveries().catch((error: Error) =>
      logger.error({ err: error.message }, 'report delivery retry failed'),
    );
    await sql
      .query(`DELETE FROM reports WHERE claimed_at < now() - make_interval(days => $1::int)`, [
        config.keep_days,
      ])
      .catch(() => undefined);
    return made;
  }

  return {
    scopeOf,
    sites: () => config.sites.map((s) => ({ name: s.name, title: s.title ?? s.name, gateways: s.gateways })),
    pdfUnavailable: () => printer.unavailable(),
    tick,

    /**
     * Starts an on-demand report; resolves with its row id once claimed (the report is made in
     * the background: poll `get`). Undefined when this node is already making MAX_ON_DEMAND.
     */
    async requestReport(
      period: Period,
      scope: ReportScope,
      requestedBy: string,
    ): Promise<number | undefined> {
      if (onDemand >= MAX_ON_DEMAND) return undefined;
      onDemand += 1;
      try {
        const { rows } = await sql.query<{ id: number }>(
          `INSERT INTO reports (schedule, period, scope, time_zone, period_start, period_end, claimed_by, requested_by)
           VALUES (NULL, $1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7) RETURNING id::int AS id`,
          [
            period.kind,
            scope.name,
            period.timeZone,
            period.start.toISOString(),
            period.end.toISOString(),
            options.node,
            requestedBy,
          ],
        );
        const id = Number(rows[0]!.id);
        const job = make(id, period, scope)
          .catch((error: Error) => fail(id, error))
          .finally(() => {
            onDemand -= 1;
            inFlight.delete(job);
          });
        inFlight.add(job);
        return id;
      } catch (error) {
        onDemand -= 1;
        throw error;
      }
    },

    list: (limit = 50, beforeId?: number) => listReports(sql, limit, beforeId),
    get,

    file: (id: number, format: 'html' | 'csv' | 'pdf') => reportFile(sql, id, format),

    start(): void {
      if (timer) return;
      const run = () => {
        if (ticking) return;
        ticking = tick()
          .then(() => undefined)
          .finally(() => (ticking = undefined));
      };
      timer = setInterval(run, config.check_interval_secs * 1000);
      timer.unref();
      run();
    },

    /** Stops the timer and waits for reports being made (their rows stay consistent). */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await ticking;
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type Reports = ReturnType<typeof createReports>;

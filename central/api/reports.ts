/**
 * The reports API (central/reports), all behind the `reports` permission (analysts and admins):
 * `GET /api/reports` lists past reports newest first with the sites and whether PDFs can be
 * printed here, `POST /api/reports` makes one on demand for a day, a week or a range of at most
 * 31 days (202: made in the background, poll `GET /api/reports/:id`), and
 * `GET /api/reports/:id/report.html|.pdf|.csv` downloads it. The HTML is served with a CSP that
 * forbids every script and request (it is self-contained), the PDF and CSV as attachments.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { apiError } from '../../server-shared/http-errors.ts';
import type { RouteDocs } from '../../server-shared/openapi/index.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import { timeZoneSchema } from '../reports/config.ts';
import { MAX_ON_DEMAND, type Reports } from '../reports/index.ts';
import { localMidnight, type Period, periodContaining } from '../reports/period.ts';
import { jsonBody } from './body.ts';
import './context.ts';
import { parseQuery } from './search-params.ts';

const idParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const MAX_CUSTOM_MS = 31 * 86_400_000;

export const reportsListQuery = z.strictObject({
  before_id: idParam.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const reportRequestSchema = z
  .strictObject({
    period: z.enum(['daily', 'weekly', 'custom']),
    scope: z.string().min(1).max(64).default('fleet').describe("'fleet' or a site's name"),
    time_zone: timeZoneSchema.optional().describe('default: reports.time_zone'),
    date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
      .optional()
      .describe('daily/weekly: a local date inside the period'),
    from: z.iso.datetime({ offset: true }).optional().describe('custom: start (ISO 8601)'),
    to: z.iso.datetime({ offset: true }).optional().describe('custom: end (ISO 8601)'),
  })
  .superRefine((b, ctx) => {
    if (b.period === 'custom' && (!b.from || !b.to))
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'a custom period needs from and to' });
    if (b.period !== 'custom' && !b.date)
      ctx.addIssue({ code: 'custom', path: ['date'], message: 'a daily or weekly report needs a date' });
  });

const FORMATS = { 'report.html': 'html', 'report.pdf': 'pdf', 'report.csv': 'csv' } as const;

function reportId(text: string): number {
  const parsed = idParam.safeParse(text);
  if (!parsed.success)
    throw apiError(400, 'invalid_path', 'the report id must be a positive integer', { field: 'id' });
  return parsed.data;
}

export function reportsApi(reports: Reports, defaultTimeZone: string, now: () => Date = () => new Date()) {
  const api = new Hono();

  api.get('/reports', requirePermission('reports'), async (c) => {
    const q = parseQuery(reportsListQuery, c.req.query());
    const rows = await reports.list(q.limit, q.before_id);
    return c.json({
      reports: rows,
      next_before_id: rows.length === q.limit ? rows[rows.length - 1]!.id : null,
      sites: reports.sites(),
      time_zone: defaultTimeZone,
      pdf_unavailable: reports.pdfUnavailable(),
    });
  });

  api.post('/reports', requirePermission('reports'), async (c) => {
    const body = await jsonBody(c.req, reportRequestSchema);
    const scope = reports.scopeOf(body.scope);
    if (!scope) throw apiError(400, 'invalid_body', `no site named ${body.scope}`, { field: 'scope' });
    const tz = body.time_zone ?? defaultTimeZone;
    let period: Period;
    if (body.period === 'custom') {
      const start = new Date(body.from!);
      const end = new Date(body.to!);
      if (!(end > start)) throw apiError(400, 'invalid_body', 'to must be after from', { field: 'to' });
      if (end.getTime() - start.getTime() > MAX_CUSTOM_MS)
        throw apiError(400, 'invalid_body', 'a custom period is at most 31 days', { field: 'to' });
      period = { kind: 'custom', start, end, timeZone: tz };
    } else {
      const [y, m, d] = body.date!.split('-').map(Number) as [number, number, number];
      const midnight = localMidnight(y, m, d, tz);
      if (Number.isNaN(midnight.getTime()) || new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d)
        throw apiError(400, 'invalid_body', 'not a date', { field: 'date' });
      period = periodContaining(body.period, midnight.getTime(), tz);
    }
    if (period.start.getTime() > now().getTime())
      throw apiError(400, 'invalid_body', 'the period has not started yet', { field: 'date' });
    const id = await reports.requestReport(period, scope, c.get('apiUser') ?? '-');
    if (id === undefined)
      throw apiError(
        429,
        'too_many_requests',
        `already making ${MAX_ON_DEMAND} reports on this node; try again shortly`,
      );
    return c.json(await reports.get(id), 202);
  });

  api.get('/reports/:id', requirePermission('reports'), async (c) => {
    const row = await reports.get(reportId(c.req.param('id')));
    if (!row) throw apiError(404, 'not_found', 'no such report');
    return c.json(row);
  });

  api.get('/reports/:id/:file', requirePermission('reports'), async (c) => {
    const format = FORMATS[c.req.param('file') as keyof typeof FORMATS];
    if (!format) throw apiError(404, 'not_found', 'report.html, report.pdf or report.csv');
    const id = reportId(c.req.param('id'));
    const found = await reports.file(id, format);
    if (!found) {
      const row = await reports.get(id);
      if (!row) throw apiError(404, 'not_found', 'no such report');
      if (row.status === 'running') throw apiError(409, 'conflict', 'the report is still being made');
      throw apiError(
        404,
        'not_found',
        format === 'pdf' && row.pdf_error ? row.pdf_error : `the report has no ${format}`,
      );
    }
    const name = `report-${id}-${found.row.scope}-${found.row.period}.${format}`;
    if (format === 'html') {
      return c.body(found.body as string, 200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        'content-disposition': `inline; filename="${name}"`,
      });
    }
    const body = format === 'pdf' ? new Uint8Array(found.body as Uint8Array) : (found.body as string);
    return c.body(body, 200, {
      'content-type': format === 'pdf' ? 'application/pdf' : 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
    });
  });

  return api;
}

const reportRowSchema = z.object({
  id: z.number().int(),
  schedule: z.string().nullable(),
  period: z.enum(['daily', 'weekly', 'custom']),
  scope: z.string(),
  time_zone: z.string(),
  period_start: z.string(),
  period_end: z.string(),
  status: z.enum(['running', 'done', 'failed']),
  title: z.string(),
  claimed_by: z.string(),
  requested_by: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  formats: z.object({ html: z.boolean(), csv: z.boolean(), pdf: z.boolean() }),
  pdf_error: z.string().nullable(),
  summary: z.looseObject({}),
  delivery: z.record(z.string(), z.looseObject({ ok: z.boolean(), at: z.string() })),
  error: z.string().nullable(),
});

/** The OpenAPI description of these routes (central/api/openapi.ts spreads it in). */
export const REPORTS_ROUTE_DOCS: RouteDocs = {
  'GET /api/reports': {
    summary: 'Past reports, newest first, with the sites and whether PDFs can be printed',
    query: reportsListQuery,
    responses: {
      200: {
        description: 'The reports',
        schema: z.object({
          reports: z.array(reportRowSchema),
          next_before_id: z.number().int().nullable(),
          sites: z.array(z.object({ name: z.string(), title: z.string(), gateways: z.array(z.string()) })),
          time_zone: z.string(),
          pdf_unavailable: z.string().nullable(),
        }),
      },
    },
  },
  'POST /api/reports': {
    summary: 'Make a report now for a day, a week or a range (made in the background)',
    body: reportRequestSchema,
    responses: { 202: { description: 'Started: poll GET /api/reports/:id', schema: reportRowSchema } },
  },
  'GET /api/reports/:id': {
    summary: 'One report: status, summary, formats, deliveries',
    responses: { 200: { description: 'The report', schema: reportRowSchema } },
  },
  'GET /api/reports/:id/:file': {
    summary: 'Download a report: report.html, report.pdf or report.csv',
    responses: {
      200: {
        description: 'The file (text/html, application/pdf or text/csv)',
        contentType: 'application/octet-stream',
      },
    },
  },
};

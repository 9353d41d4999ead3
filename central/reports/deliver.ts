/**
 * Sending a finished report to its destinations (config.ts `reports.destinations`):
 *   - e-mail: the HTML report as the message body, with the chosen formats attached, over SMTP
 *     (nodemailer, as the e-mail sink: STARTTLS required by default, TLS on connect for 465);
 *   - webhook: one JSON POST signed exactly as the webhook sink signs alerts (HMAC-SHA256 over
 *     "<timestamp>.<body>", `x-siem-signature`, an `Idempotency-Key` of the report), https only
 *     unless allowed, through the same guarded POST as the webhook sink (`guardedPoster` in
 *     central/sinks/webhook.ts: TLS 1.2+ verified against the system CAs or `ca_file`, no
 *     redirects, a fresh socket per report, and the address guard against server-side request
 *     forgery, which checks every address the host resolves to as the socket connects);
 *     link-local and cloud metadata addresses are always refused, loopback and private ones
 *     unless listed in `allow_addresses` (or, from older configs, `allow_private_addresses`).
 * Secrets come from the environment or a file, checked at start and read again when a report is sent.
 */
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { PRIVATE_RANGES } from '../sinks/address-guard.ts';
import { guardedPoster, webhookSignature } from '../sinks/webhook.ts';
import type { ReportDestination } from './config.ts';

export interface ReportFiles {
  id: number;
  title: string;
  /** Base of the attachment names, e.g. `report-fleet-daily-2026-03-01`. */
  basename: string;
  formats: ReadonlyArray<'html' | 'pdf' | 'csv'>;
  html: string;
  csv: string;
  pdf: Buffer | null;
  pdfError: string | null;
  meta: Record<string, unknown>;
}

export type DeliveryOutcome = { ok: true } | { ok: false; error: string };

/**
 * The secret of a destination (SMTP password, webhook HMAC key) from its environment variable or
 * file; throws naming the key to fix. Called at start (a missing secret fails start) and per send.
 */
export function destinationSecret(
  name: string,
  destination: ReportDestination,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const key = `reports.destinations.${name}`;
  if (destination.secret_env) {
    const value = env[destination.secret_env];
    if (!value)
      throw new Error(`${key}.secret_env: environment variable ${destination.secret_env} is not set`);
    return value;
  }
  if (destination.secret_file) {
    try {
      return readFileSync(destination.secret_file, 'utf8').trim();
    } catch (error) {
      throw new Error(`${key}.secret_file: ${(error as Error).message}`);
    }
  }
  return undefined;
}

type WebhookDestination = Extract<ReportDestination, { type: 'webhook' }>;

/**
 * The loopback and private addresses a report webhook may reach: its `allow_addresses`, and every
 * loopback and private range when an older config still sets `allow_private_addresses: true`
 * (what that key allowed before the list existed). Link-local and metadata addresses never.
 */
export function reportAllowList(destination: WebhookDestination): readonly string[] {
  return destination.allow_private_addresses
    ? [...destination.allow_addresses, ...PRIVATE_RANGES]
    : destination.allow_addresses;
}

async function postJson(
  name: string,
  destination: WebhookDestination,
  body: string,
  headers: Record<string, string>,
): Promise<DeliveryOutcome> {
  if (new URL(destination.url).protocol !== 'https:' && !destination.allow_http)
    return { ok: false, error: 'refused: plain http:// (set allow_http)' };
  const post = guardedPoster({
    url: destination.url,
    allow: reportAllowList(destination),
    allowKey: `reports.destinations.${name}.allow_addresses`,
    timeoutSecs: destination.timeout_secs,
    ...(destination.ca_file && { ca: readFileSync(destination.ca_file) }),
  });
  const sent = await post(headers, body);
  if ('error' in sent) return { ok: false, error: sent.error.slice(0, 300) };
  // No redirect is followed: a 3xx is a failure like any other non-2xx.
  return sent.status >= 200 && sent.status < 300 ? { ok: true } : { ok: false, error: `HTTP ${sent.status}` };
}

async function sendWebhook(
  name: string,
  destination: WebhookDestination,
  files: ReportFiles,
  env: NodeJS.ProcessEnv,
): Promise<DeliveryOutcome> {
  const secret = destinationSecret(name, destination, env);
  if (!secret) return { ok: false, error: 'no secret (secret_env or secret_file)' };
  const key = `report-${files.id}`;
  const body = JSON.stringify({
    idempotency_key: key,
    destination: name,
    report: { id: files.id, title: files.title, ...files.meta },
    ...(files.formats.includes('csv') && { csv: files.csv }),
    ...(files.formats.includes('html') && { html: files.html }),
    ...(files.formats.includes('pdf') &&
      (files.pdf ? { pdf_base64: files.pdf.toString('base64') } : { pdf_error: files.pdfError })),
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  return postJson(name, destination, body, {
    'idempotency-key': key,
    'x-siem-timestamp': timestamp,
    'x-siem-signature': webhookSignature(secret, timestamp, body),
  });
}

async function sendEmail(
  name: string,
  destination: Extract<ReportDestination, { type: 'email' }>,
  files: ReportFiles,
  env: NodeJS.ProcessEnv,
): Promise<DeliveryOutcome> {
  const password = destinationSecret(name, destination, env);
  const idx = destination.endpoint.lastIndexOf(':');
  const transport = nodemailer.createTransport({
    host: destination.endpoint.slice(0, idx).replace(/^\[(.*)\]$/, '$1'),
    port: Number(destination.endpoint.slice(idx + 1)),
    secure: destination.secure,
    requireTLS: destination.require_tls,
    tls: { minVersion: 'TLSv1.2', ...(destination.ca_file && { ca: readFileSync(destination.ca_file) }) },
    ...(destination.user && { auth: { user: destination.user, pass: password ?? '' } }),
    connectionTimeout: destination.timeout_secs * 1000,
    greetingTimeout: destination.timeout_secs * 1000,
    socketTimeout: destination.timeout_secs * 1000,
  });
  const attachments = [];
  if (files.formats.includes('html'))
    attachments.push({
      filename: `${files.basename}.html`,
      content: files.html,
      contentType: 'text/html; charset=utf-8',
    });
  if (files.formats.includes('pdf') && files.pdf)
    attachments.push({
      filename: `${files.basename}.pdf`,
      content: files.pdf,
      contentType: 'application/pdf',
    });
  if (files.formats.includes('csv'))
    attachments.push({
      filename: `${files.basename}.csv`,
      content: files.csv,
      contentType: 'text/csv; charset=utf-8',
    });
  const note =
    files.formats.includes('pdf') && !files.pdf ? `\n\n${files.pdfError ?? 'PDF unavailable'}` : '';
  try {
    await transport.sendMail({
      from: destination.from,
      to: destination.to,
      subject: `${destination.subject_prefix} ${files.title}`.replace(/[\r\n]+/g, ' '),
      text: `${files.title}\n\nThe report is attached (${attachments.map((a) => a.filename).join(', ')}).${note}\n`,
      html: files.html,
      attachments,
      messageId: `<report-${files.id}@siem-central>`,
      headers: { 'X-Siem-Idempotency-Key': `report-${files.id}` },
    });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message.slice(0, 300) };
  } finally {
    transport.close();
  }
}

export async function deliverReport(
  name: string,
  destination: ReportDestination,
  files: ReportFiles,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeliveryOutcome> {
  try {
    return destination.type === 'email'
      ? await sendEmail(name, destination, files, env)
      : await sendWebhook(name, destination, files, env);
  } catch (error) {
    return { ok: false, error: (error as Error).message.slice(0, 300) };
  }
}

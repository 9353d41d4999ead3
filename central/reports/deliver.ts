/**
 * Sending a finished report to its destinations (config.ts `reports.destinations`):
 *   - e-mail: the HTML report as the message body, with the chosen formats attached, over SMTP
 *     (nodemailer, as the e-mail sink: STARTTLS required by default, TLS on connect for 465);
 *   - webhook: one JSON POST signed exactly as the webhook sink signs alerts (HMAC-SHA256 over
 *     "<timestamp>.<body>", `x-siem-signature`, an `Idempotency-Key` of the report), https only
 *     unless allowed, TLS 1.2+ verified against the system CAs or `ca_file`, no redirects, and
 *     the address guard against server-side request forgery shared with the webhook sink
 *     (central/sinks/address-guard.ts: every address the host resolves to is checked when the
 *     socket connects, a fresh socket per report); link-local and cloud metadata addresses are
 *     always refused, loopback and private ones unless `allow_private_addresses`.
 * Secrets come from the environment or a file, checked at start and read again when a report is sent.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import nodemailer from 'nodemailer';
import { type AddressCheck, addressCheck, guardedLookup, refusedLiteral } from '../sinks/address-guard.ts';
import { webhookSignature } from '../sinks/webhook.ts';
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

/** The address guard of a report webhook (central/sinks/address-guard.ts, shared with the sink). */
function reportAddressCheck(allowPrivate: boolean): AddressCheck {
  return addressCheck({ allowPrivate, allowHint: 'set allow_private_addresses to allow it' });
}

/** Why `address` may not be called, or null. IPv4-mapped IPv6 addresses are judged as IPv4. */
export function refusedAddress(address: string, allowPrivate: boolean): string | null {
  return reportAddressCheck(allowPrivate)(address);
}

function postJson(
  destination: Extract<ReportDestination, { type: 'webhook' }>,
  body: string,
  headers: Record<string, string>,
): Promise<DeliveryOutcome> {
  const url = new URL(destination.url);
  const check = reportAddressCheck(destination.allow_private_addresses);
  const why = refusedLiteral(url, check);
  if (why) return Promise.resolve({ ok: false, error: `refused: ${why}` });
  const secure = url.protocol === 'https:';
  if (!secure && !destination.allow_http)
    return Promise.resolve({ ok: false, error: 'refused: plain http:// (set allow_http)' });
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        lookup: guardedLookup(check),
        // A fresh socket per report: a pooled keep-alive socket would skip the lookup, and with
        // it the address guard (another destination's policy may have opened it).
        agent: false,
        timeout: destination.timeout_secs * 1000,
        ...(secure && {
          minVersion: 'TLSv1.2' as const,
          rejectUnauthorized: true,
          ...(destination.ca_file && { ca: readFileSync(destination.ca_file) }),
        }),
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // No redirect is followed: a 3xx is a failure like any other non-2xx.
          resolve(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `HTTP ${status}` });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve({ ok: false, error: error.message.slice(0, 300) }));
    req.end(body);
  });
}

async function sendWebhook(
  name: string,
  destination: Extract<ReportDestination, { type: 'webhook' }>,
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
  return postJson(destination, body, {
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

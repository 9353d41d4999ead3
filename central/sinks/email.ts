/**
 * The e-mail sink: one plain-text message per alert over SMTP (nodemailer's SMTP transport:
 * STARTTLS when offered or required, TLS on connect for port 465, AUTH). The idempotency key is
 * the Message-ID and an `X-Siem-Idempotency-Key` header, so a repeat is recognisable. A 5xx
 * reply to the message is a rejection; connection failures and 4xx replies are retried.
 */
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { Alert } from '../alerts/types.ts';
import type { SinkConfig } from './config.ts';
import { readSecret } from './secret.ts';
import { OK, reject, retry, type Sink } from './types.ts';

type EmailSinkConfig = Extract<SinkConfig, { type: 'email' }>;

const SEVERITY_NAMES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'];

export function alertMailText(alert: Alert): { subject: string; text: string } {
  const subject = `[${SEVERITY_NAMES[alert.severity]}] ${alert.rule_title} on ${alert.entity}`;
  const lines = [
    `Rule:        ${alert.rule_title} (${alert.rule_id})`,
    `Severity:    ${SEVERITY_NAMES[alert.severity]} (${alert.severity})`,
    `ATT&CK:      ${alert.techniques.join(', ') || '-'}`,
    `${alert.entity_type === 'device' ? 'Device:' : 'Host:'}${' '.repeat(alert.entity_type === 'device' ? 6 : 8)}${alert.entity}`,
    `Gateway:     ${alert.gateway ?? '-'}`,
    `Site:        ${alert.site ?? '-'}`,
    `Count:       ${alert.count}`,
    `First seen:  ${alert.first_seen}`,
    `Last seen:   ${alert.last_seen}`,
    `Alert id:    ${alert.id}`,
    `Events:      ${alert.event_ids.slice(0, 20).join(', ') || '-'}`,
  ];
  return { subject: subject.replace(/[\r\n]+/g, ' '), text: `${lines.join('\n')}\n` };
}

export function createEmailSink(
  name: string,
  config: EmailSinkConfig,
  env: NodeJS.ProcessEnv = process.env,
): Sink {
  const password = readSecret(name, config, env);
  const idx = config.endpoint.lastIndexOf(':');
  const transport = nodemailer.createTransport({
    host: config.endpoint.slice(0, idx).replace(/^\[(.*)\]$/, '$1'),
    port: Number(config.endpoint.slice(idx + 1)),
    secure: config.secure,
    requireTLS: config.require_tls,
    ...(config.ca_file && { tls: { ca: readFileSync(config.ca_file) } }),
    ...(config.user && { auth: { user: config.user, pass: password ?? '' } }),
    connectionTimeout: config.timeout_secs * 1000,
    greetingTimeout: config.timeout_secs * 1000,
    socketTimeout: config.timeout_secs * 1000,
  });
  return {
    name,
    type: 'email',
    async send(item) {
      const { subject, text } = alertMailText(item.alert);
      try {
        await transport.sendMail({
          from: config.from,
          to: config.to,
          subject: `${config.subject_prefix} ${subject}`,
          text,
          messageId: `<${item.idempotencyKey}@siem-central>`,
          headers: { 'X-Siem-Idempotency-Key': item.idempotencyKey },
        });
        return OK;
      } catch (error) {
        const err = error as Error & { responseCode?: number; code?: string };
        if (err.responseCode !== undefined && err.responseCode >= 500) {
          return reject(`smtp_${err.responseCode}`, err.message);
        }
        return retry(err.responseCode ? `smtp_${err.responseCode}` : 'connection', err.message);
      }
    },
    async close() {
      transport.close();
    },
  };
}

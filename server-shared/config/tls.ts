/**
 * The TLS block of every listening server in the configs (syslog over TLS, the MQTT broker,
 * central's HTTPS and wss://), and the Node.js server options it stands for: TLS 1.2 or newer, and
 * client certificates required exactly when a CA for them is configured.
 */
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { z } from 'zod';

export const tlsServerSchema = z.strictObject({
  cert_file: z.string().describe('PEM certificate chain.'),
  key_file: z.string().describe('PEM private key (keep it 0600).'),
  ca_file: z.string().optional().describe('CA for client certificates; when set, clients must present one.'),
});

export type TlsServerConfig = z.output<typeof tlsServerSchema>;

export function tlsServerOptions(tls: TlsServerConfig): TlsOptions {
  return {
    cert: readFileSync(tls.cert_file),
    key: readFileSync(tls.key_file),
    ca: tls.ca_file ? readFileSync(tls.ca_file) : undefined,
    requestCert: tls.ca_file !== undefined,
    rejectUnauthorized: tls.ca_file !== undefined,
    minVersion: 'TLSv1.2',
  };
}

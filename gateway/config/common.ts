/**
 * Config building blocks shared by the gateway's components: listen addresses and TLS blocks.
 */
import { z } from 'zod';

/** `host:port` or `[v6]:port`; port 0 asks the OS for a free port (tests use it). */
export const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');

export const tlsServerSchema = z.strictObject({
  cert_file: z.string().describe('PEM certificate chain.'),
  key_file: z.string().describe('PEM private key (keep it 0600).'),
  ca_file: z.string().optional().describe('CA for client certificates; when set, clients must present one.'),
});

export function parseListen(listen: string): { host: string; port: number } {
  const idx = listen.lastIndexOf(':');
  const host = listen.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(idx + 1)) };
}

/**
 * The syslog sink: alerts as CEF in RFC 5424 messages over one long-lived TCP or TLS connection,
 * framed by octet counting (RFC 6587 §3.4.1) or LF. A write counts as sent once the socket has
 * flushed it to the kernel: plain TCP syslog has no application-level acknowledgement, so a
 * receiver that dies with data in flight can lose the last messages (RELP would close that gap);
 * anything refused before that (connect refused, TLS failure, a closed socket) is retried.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { SinkConfig } from './config.ts';
import { alertSyslogMessage } from './cef.ts';
import { OK, retry, type Sink } from './types.ts';

type SyslogSinkConfig = Extract<SinkConfig, { type: 'syslog' }>;

const CONNECT_TIMEOUT_MS = 10_000;

export function createSyslogSink(name: string, config: SyslogSinkConfig): Sink {
  const idx = config.endpoint.lastIndexOf(':');
  const host = config.endpoint.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  const port = Number(config.endpoint.slice(idx + 1));
  const tlsOptions =
    config.mode === 'tls'
      ? {
          ca: config.tls?.ca_file ? readFileSync(config.tls.ca_file) : undefined,
          cert: config.tls?.cert_file ? readFileSync(config.tls.cert_file) : undefined,
          key: config.tls?.key_file ? readFileSync(config.tls.key_file) : undefined,
          servername: config.tls?.server_name ?? (net.isIP(host) ? undefined : host),
          minVersion: 'TLSv1.2' as const,
        }
      : undefined;
  let socket: net.Socket | undefined;

  function connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = tlsOptions ? tls.connect({ host, port, ...tlsOptions }) : net.connect({ host, port });
      const fail = (error: Error) => {
        s.destroy();
        reject(error);
      };
      s.setTimeout(CONNECT_TIMEOUT_MS, () => fail(new Error('connect timeout')));
      s.once('error', fail);
      s.once(tlsOptions ? 'secureConnect' : 'connect', () => {
        s.setTimeout(0);
        s.off('error', fail);
        s.setKeepAlive(true, 30_000);
        // Later errors just drop the connection; the next send reconnects.
        s.on('error', () => s.destroy());
        s.on('close', () => {
          if (socket === s) socket = undefined;
        });
        // A receiver never speaks; read and ignore anything so the socket notices a close.
        s.resume();
        resolve(s);
      });
    });
  }

  return {
    name,
    type: 'syslog',
    async send(item) {
      const message = alertSyslogMessage(item.alert, item.idempotencyKey, {
        facility: config.facility,
        hostname: config.hostname,
      });
      const frame =
        config.framing === 'octet_counting' ? `${Buffer.byteLength(message)} ${message}` : `${message}\n`;
      try {
        if (!socket || socket.destroyed || !socket.writable) socket = await connect();
        const s = socket;
        await new Promise<void>((resolve, reject) => {
          s.write(frame, (error) => (error ? reject(error) : resolve()));
        });
        return OK;
      } catch (error) {
        socket?.destroy();
        socket = undefined;
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        return retry(code === 'ECONNREFUSED' ? 'refused' : 'connection', (error as Error).message);
      }
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return;
      await new Promise<void>((resolve) => {
        s.end(() => resolve());
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000).unref();
      });
    },
  };
}

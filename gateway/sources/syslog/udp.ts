/**
 * Syslog over UDP (RFC 5426): one message per datagram (§3.1). A trailing LF or NUL that some
 * senders append is not part of the message and is stripped by the parser.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { parseListen } from '../../config/common.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import type { SyslogSourceConfig } from './config.ts';
import { decodeFrame, normalizeIp } from './decode.ts';

export function createSyslogUdpSource(name: string, config: SyslogSourceConfig, ctx: SourceContext): Source {
  let socket: dgram.Socket | undefined;
  let address: SourceAddress | undefined;
  const { host, port } = parseListen(config.listen);

  return {
    name,
    type: 'syslog',
    async start() {
      const s = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
      socket = s;
      s.on('message', (msg, rinfo) => {
        const event = decodeFrame(
          msg,
          { transport: 'udp', peer: { ip: normalizeIp(rinfo.address), port: rinfo.port }, sourceName: name },
          ctx,
          config.max_message_bytes,
        );
        // A refused or failed append is counted and reported by the pipeline; UDP has no one to tell.
        ctx
          .emit([event])
          .catch((error: Error) => ctx.logger.debug({ err: error.message }, 'event not queued'));
      });
      s.on('error', (error) => {
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'socket' });
        ctx.logger.warn({ err: error.message }, 'udp socket error');
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      // Large receive buffers absorb bursts while the event loop is busy; the kernel caps the value.
      try {
        s.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        // Not permitted on every system; the default still works.
      }
      const bound = s.address();
      address = { transport: 'udp', host: bound.address, port: bound.port };
    },
    async stop() {
      const s = socket;
      socket = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    addresses: () => (address ? [address] : []),
  };
}

/**
 * Syslog over UDP (RFC 5426): one message per datagram (§3.1). A trailing LF or NUL that some
 * senders append is not part of the message and is stripped by the parser. The datagrams read in
 * one turn of the event loop go to the pipeline as one batch (UDP has no ack to wait for).
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { normalizeIp } from '../../../protocols/event/address.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { parseListen } from '../../config/common.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import type { SyslogSourceConfig } from './config.ts';
import { decodeFrame } from './decode.ts';

/** Datagrams gathered before a batch goes to the pipeline without waiting for the turn to end. */
const MAX_BATCH = 256;

export function createSyslogUdpSource(name: string, config: SyslogSourceConfig, ctx: SourceContext): Source {
  let socket: dgram.Socket | undefined;
  let address: SourceAddress | undefined;
  const { host, port } = parseListen(config.listen);
  let batch: PendingEvent[] = [];
  let scheduled: NodeJS.Immediate | undefined;

  const flush = () => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const events = batch;
    batch = [];
    if (events.length === 0) return;
    // A refused or failed append is counted and reported by the pipeline; UDP has no one to tell.
    ctx.emit(events).catch((error: Error) => ctx.logger.debug({ err: error.message }, 'events not queued'));
  };

  return {
    name,
    type: 'syslog',
    async start() {
      const s = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
      socket = s;
      s.on('message', (msg, rinfo) => {
        batch.push(
          decodeFrame(
            msg,
            {
              transport: 'udp',
              peer: { ip: normalizeIp(rinfo.address), port: rinfo.port },
              sourceName: name,
            },
            ctx,
            config.max_message_bytes,
          ),
        );
        if (batch.length >= MAX_BATCH) flush();
        else scheduled ??= setImmediate(flush);
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
      flush();
    },
    addresses: () => (address ? [address] : []),
  };
}

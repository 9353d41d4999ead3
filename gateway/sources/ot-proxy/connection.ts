/**
 * One client connection through the OT proxy, with its own connection to the device. Bytes are
 * relayed unchanged both ways as they arrive (monitor mode) and each direction is handed, in
 * order, to the passive capture's follower for the protocol (capture/ot.ts `stream`), so the events
 * are those a mirror port would give. A FIN from one side is passed on to the other (half close);
 * an error or reset on one side resets the other. Flow control: the proxy stops reading a side
 * while more than `max_buffered_bytes` wait to be written to the other, and stops reading both
 * while the pipeline is behind (events gathered and emits in flight), so memory stays bounded and
 * nothing read is dropped. A connection silent both ways for `idle_timeout_secs` is closed.
 */
import net from 'node:net';
import { normalizeIp } from '../../../protocols/event/address.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { TcpChunk, TcpFlow } from '../../../protocols/pcap/index.ts';
import type { SourceContext } from '../../pipeline/types.ts';
import type { FrameMeta } from '../capture/frame-meta.ts';
import type { OtCapture } from '../capture/ot.ts';
import type { OtProxyRoute, OtProxySourceConfig } from './config.ts';

/** Emits waiting on the queue per connection: one being written, one more (as the Modbus proxy). */
const MAX_PENDING_EMITS = 2;
/** Events gathered while those emits are in flight, before the proxy stops reading. */
const MAX_GATHERED_EVENTS = 512;

export interface RelayDeps {
  name: string;
  route: OtProxyRoute;
  config: OtProxySourceConfig;
  ctx: SourceContext;
  upstream: { host: string; port: number };
  /** The listener's decoder (one per listener, shared by its connections). */
  decoder: OtCapture;
  /** The listener's read counter: `fields.frame` of the events (the proxy has no capture frames). */
  nextRead(): number;
  /** Called once both sockets are gone. */
  onEnd?(): void;
}

const flowKey = (f: TcpFlow) => `${f.src}|${f.srcPort}|${f.dst}|${f.dstPort}`;

export function relayConnection(client: net.Socket, deps: RelayDeps): void {
  const { name, route, config, ctx, upstream, decoder } = deps;
  const limit = config.max_buffered_bytes;
  client.setNoDelay(true);
  const peer = { ip: normalizeIp(client.remoteAddress), port: client.remotePort ?? 0 };
  const toDevice: TcpFlow = { src: peer.ip, srcPort: peer.port, dst: upstream.host, dstPort: upstream.port };
  const toClient: TcpFlow = { src: upstream.host, srcPort: upstream.port, dst: peer.ip, dstPort: peer.port };
  const keys = { toDevice: flowKey(toDevice), toClient: flowKey(toClient) };
  const device = net.connect({
    host: upstream.host,
    port: upstream.port,
    timeout: config.connect_timeout_secs * 1000,
    allowHalfOpen: true,
  });
  device.setNoDelay(true);
  let connected = false;
  let clientEnded = false;
  let finished = false;
  const queued: Buffer[] = [];
  let queuedBytes = 0;
  let gathered: PendingEvent[] = [];
  let pendingEmits = 0;

  const count = (stage: string, code: string) => ctx.metrics.errors.inc({ component: name, stage, code });
  const eventsBehind = () => pendingEmits >= MAX_PENDING_EMITS && gathered.length >= MAX_GATHERED_EVENTS;

  const flush = (force = false) => {
    if (gathered.length === 0 || (!force && pendingEmits >= MAX_PENDING_EMITS)) return;
    const events = gathered;
    gathered = [];
    pendingEmits += 1;
    ctx
      .emit(events)
      // The pipeline counts what it could not queue (queue_full, queue_write_failed).
      .catch((error: Error) => ctx.logger.debug({ err: error.message }, 'events not queued'))
      .finally(() => {
        pendingEmits -= 1;
        flush();
        pump();
      });
  };

  /** Pauses a side while the other has too much to write, or both while events are behind. */
  function pump(): void {
    if (finished) return;
    const behind = eventsBehind();
    if (behind || queuedBytes + device.writableLength >= limit) client.pause();
    else client.resume();
    if (behind || client.writableLength >= limit) device.pause();
    else device.resume();
  }

  const decode = (direction: 'request' | 'response', data: Buffer) => {
    const flow = direction === 'request' ? toDevice : toClient;
    const chunk: TcpChunk<FrameMeta> = {
      key: direction === 'request' ? keys.toDevice : keys.toClient,
      flow,
      data,
      gap: false,
      meta: { frame: deps.nextRead(), ts: ctx.now() },
    };
    const before = gathered.length;
    try {
      decoder.stream(route.protocol, chunk, gathered);
    } catch (error) {
      // The codecs never throw; should one, the relay goes on and the fault is counted.
      count('processing', 'decoder');
      ctx.logger.warn({ err: (error as Error).message, proxy: name }, 'OT decoder failed');
    }
    for (let i = before; i < gathered.length; i++) {
      const e = gathered[i]!;
      if (route.device_name && e.device && !e.device.name) e.device.name = route.device_name;
    }
    // Handed on at once unless two emits are in flight; then they wait (bounded) for the next.
    flush();
  };

  client.on('data', (chunk: Buffer) => {
    if (device.destroyed) return void client.destroy();
    if (connected) device.write(chunk);
    else {
      queued.push(chunk);
      queuedBytes += chunk.length;
    }
    decode('request', chunk);
    pump();
  });
  client.on('end', () => {
    clientEnded = true;
    if (connected) device.end();
  });
  client.on('drain', pump);

  device.on('connect', () => {
    connected = true;
    device.setTimeout(0);
    for (const b of queued.splice(0)) device.write(b);
    queuedBytes = 0;
    if (clientEnded) device.end();
    pump();
  });
  device.on('data', (chunk: Buffer) => {
    if (client.destroyed) return void device.destroy();
    client.write(chunk);
    decode('response', chunk);
    pump();
  });
  device.on('end', () => client.end());
  device.on('drain', pump);
  device.on('timeout', () => device.destroy(new Error('connect timeout')));
  device.on('error', (error) => {
    if (!connected) {
      count('sending', 'upstream');
      ctx.logger.warn({ err: error.message, upstream: route.upstream }, 'OT device unreachable');
      gathered.push(unreachableEvent(ctx.now(), name, route, upstream, peer, error.message));
    } else count('sending', 'socket');
  });
  client.on('error', () => count('receiving', 'socket'));
  // A reset or an error on one side resets the other; a clean close lets the other side drain.
  device.on('close', (hadError) => {
    if (hadError || !connected) client.destroy();
    else client.end();
    done();
  });
  client.on('close', (hadError) => {
    if (hadError) device.destroy();
    else device.end();
    done();
  });
  // Node refreshes the timer on reads and on writes: relayed bytes either way keep it alive.
  client.setTimeout(config.idle_timeout_secs * 1000, () => {
    count('receiving', 'idle_timeout');
    client.destroy();
    device.destroy();
  });

  let sides = 2;
  function done(): void {
    if (--sides > 0) return;
    finished = true;
    decoder.closeStream(route.protocol, toDevice);
    flush(true);
    deps.onEnd?.();
  }
}

/** The device did not accept the proxy's connection: the client was refused on its behalf. */
export function unreachableEvent(
  now: Date,
  proxy: string,
  route: OtProxyRoute,
  upstream: { host: string; port: number },
  client: { ip: string; port: number },
  why: string,
): PendingEvent {
  const ts = now.toISOString();
  return {
    ts,
    received: ts,
    source: route.protocol,
    kind: 'security',
    action: `${route.protocol}.device_unreachable`,
    severity: 3,
    message: `${route.protocol} device ${route.upstream} unreachable through proxy ${proxy}: ${why}`,
    device: {
      id: `${route.protocol}:${upstream.host}`,
      ...(route.device_name ? { name: route.device_name } : {}),
    },
    src: { ip: client.ip, port: client.port },
    dst: { ip: upstream.host, port: upstream.port },
    fields: { proxy, upstream: route.upstream, error: why },
    tags: [],
  };
}

/**
 * One client connection through the OT proxy, with its own connection to the device. Bytes are
 * relayed unchanged both ways as they arrive (monitor mode) and each direction is handed, in
 * order, to the passive capture's follower for the protocol (capture/ot.ts `stream`), so the events
 * are those a mirror port would give. A FIN from one side is passed on to the other (half close);
 * an error or reset on one side resets the other. Flow control: the proxy stops reading a side
 * while more than `max_buffered_bytes` wait to be written to the other, and stops reading both
 * while the pipeline is behind (events gathered and emits in flight), so memory stays bounded and
 * nothing read is dropped. A connection silent both ways for `idle_timeout_secs` is closed. The
 * socket plumbing is shared with the Modbus proxy (shared/tcp-relay.ts, shared/emit-gate.ts).
 */
import type net from 'node:net';
import type { TcpChunk, TcpFlow } from '../../../protocols/pcap/index.ts';
import type { SourceContext } from '../../pipeline/types.ts';
import type { FrameMeta } from '../capture/frame-meta.ts';
import type { OtCapture } from '../capture/ot.ts';
import { deviceUnreachableEvent } from '../shared/device-unreachable.ts';
import { createEmitGate } from '../shared/emit-gate.ts';
import { openTcpRelay } from '../shared/tcp-relay.ts';
import type { OtProxyRoute, OtProxySourceConfig } from './config.ts';

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
  let finished = false;
  const count = (stage: string, code: string) => ctx.metrics.errors.inc({ component: name, stage, code });
  const gate = createEmitGate(ctx, { onSettled: () => pump() });

  const relay = openTcpRelay(client, deps, {
    halfClose: true,
    onClientData(chunk) {
      if (device.destroyed) return void client.destroy();
      relay.send(chunk);
      decode('request', chunk);
      pump();
    },
    onUpstreamData(chunk) {
      if (client.destroyed) return void device.destroy();
      client.write(chunk);
      decode('response', chunk);
      pump();
    },
    onWritable: () => pump(),
    onUpstreamError(error, connected) {
      if (!connected) {
        count('sending', 'upstream');
        ctx.logger.warn({ err: error.message, upstream: route.upstream }, 'OT device unreachable');
        gate.events.push(
          deviceUnreachableEvent({
            now: ctx.now(),
            protocol: route.protocol,
            label: `${route.protocol} device`,
            proxy: name,
            endpoint: { key: 'upstream', value: route.upstream },
            upstream,
            client: relay.peer,
            deviceName: route.device_name,
            why: error.message,
          }),
        );
      } else count('sending', 'socket');
    },
    onIdle: () => count('receiving', 'idle_timeout'),
    onEnd() {
      finished = true;
      decoder.closeStream(route.protocol, toDevice);
      gate.flush(true);
      deps.onEnd?.();
    },
  });
  const device = relay.upstream;
  const { peer } = relay;
  const toDevice: TcpFlow = { src: peer.ip, srcPort: peer.port, dst: upstream.host, dstPort: upstream.port };
  const toClient: TcpFlow = { src: upstream.host, srcPort: upstream.port, dst: peer.ip, dstPort: peer.port };
  const keys = { toDevice: flowKey(toDevice), toClient: flowKey(toClient) };

  /** Pauses a side while the other has too much to write, or both while events are behind. */
  function pump(): void {
    if (finished) return;
    const behind = gate.behind();
    if (behind || relay.upstreamBacklog() >= limit) client.pause();
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
    const gathered = gate.events;
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
    gate.flush();
  };
}

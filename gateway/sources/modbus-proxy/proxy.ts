/**
 * The Modbus/TCP inline proxy's sockets: one upstream connection to the PLC per HMI connection.
 * Requests are cut into ADUs (MBAP, Messaging on TCP/IP §3.1.3), decoded, checked against the
 * policy and forwarded byte for byte; responses are forwarded as they arrive and decoded on the
 * side. Events are emitted off the forwarding path, so a slow disk never delays the plant. In
 * enforce mode a denied request is answered with an exception response (Application Protocol §7)
 * carrying the request's transaction and unit ids, and never reaches the PLC.
 */
import net from 'node:net';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  createMbapDeframer,
  createModbusSession,
  encodeException,
  encodeMbap,
  type ModbusAdu,
  modbusErrorToEvent,
  type ModbusEventContext,
  modbusToEvent,
  pduFields,
} from '../../../protocols/modbus/index.ts';
import { parseListen } from '../../config/common.ts';
import type { Source, SourceAddress, SourceContext } from '../../pipeline/types.ts';
import { normalizeIp } from '../syslog/decode.ts';
import type { ModbusProxySourceConfig } from './config.ts';
import { checkPolicy } from './policy.ts';
import { createValueCache } from './values.ts';

export function createModbusProxySource(
  name: string,
  config: ModbusProxySourceConfig,
  ctx: SourceContext,
): Source {
  let server: net.Server | undefined;
  let address: SourceAddress | undefined;
  const sockets = new Set<net.Socket>();
  const values = createValueCache();
  const listen = parseListen(config.listen);
  const upstream = parseListen(config.endpoint);

  const emit = (events: PendingEvent[]) => {
    if (events.length === 0) return;
    ctx.emit(events).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
      ctx.logger.error({ err: error.message }, 'queue write failed');
    });
  };

  const onConnection = (client: net.Socket) => {
    sockets.add(client);
    ctx.metrics.connections.set({ source: name }, sockets.size);
    client.setNoDelay(true);
    const master = { ip: normalizeIp(client.remoteAddress), port: client.remotePort ?? 0 };
    const plc = net.connect({
      host: upstream.host,
      port: upstream.port,
      timeout: config.connect_timeout_secs * 1000,
    });
    plc.setNoDelay(true);
    const server = { ip: upstream.host, port: upstream.port };
    const session = createModbusSession<undefined>();
    const requests = createMbapDeframer();
    const responses = createMbapDeframer();
    let connected = false;
    const queued: Uint8Array[] = [];
    const base = (): ModbusEventContext => ({
      received: ctx.now(),
      master,
      server,
      transport: 'tcp',
      extra: { proxy: name },
    });
    const toPlc = (bytes: Uint8Array) => (connected ? plc.write(bytes) : queued.push(bytes));

    const handleRequest = (adu: ModbusAdu, out: PendingEvent[]) => {
      const decoded = session.decode(adu, 'request', undefined);
      const ectx = base();
      if (!decoded.result.ok) {
        out.push(modbusErrorToEvent(decoded.result.error, adu.pdu, 'request', ectx, adu.header));
        toPlc(encodeMbap(adu.header, adu.pdu));
        return;
      }
      const pdu = decoded.result.pdu;
      const verdict = checkPolicy(config, master.ip, adu.header.unitId, pdu);
      const extra: Record<string, unknown> = { proxy: name };
      const previous = values.previous(adu.header.unitId, pdu);
      if (previous) extra.previous_values = previous;
      if (!verdict.allowed) extra.policy = config.mode === 'enforce' ? 'blocked' : 'violation';
      out.push(modbusToEvent(adu.header, pdu, { ...ectx, extra, anomalies: decoded.anomalies }));
      if (verdict.allowed) {
        toPlc(encodeMbap(adu.header, adu.pdu));
        return;
      }
      const blocked = config.mode === 'enforce';
      const violation = modbusToEvent(adu.header, pdu, { ...ectx, extra: { proxy: name } });
      out.push({
        ...violation,
        action: 'modbus.policy_violation',
        kind: 'security',
        severity: blocked ? 4 : 3,
        message: `${verdict.reason.replace(/_/g, ' ')}: ${master.ip} ${violation.message} (${blocked ? 'blocked' : 'reported'})`,
        fields: {
          ...pduFields(pdu),
          unit_id: adu.header.unitId,
          transaction_id: adu.header.transactionId,
          transport: 'tcp',
          proxy: name,
          reason: verdict.reason,
          mode: config.mode,
          blocked,
          ...(blocked ? { exception_code: verdict.exceptionCode } : {}),
        },
      });
      if (!blocked) {
        toPlc(encodeMbap(adu.header, adu.pdu));
        return;
      }
      client.write(encodeMbap(adu.header, encodeException(pdu.function, verdict.exceptionCode)));
    };

    client.on('data', (chunk: Buffer) => {
      const out: PendingEvent[] = [];
      const { adus, errors } = requests.push(chunk);
      for (const error of errors) {
        out.push(modbusErrorToEvent(error, error.skipped, 'request', base()));
        ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: error.code });
        // Not Modbus: forward unchanged in monitor mode (the proxy must not break the plant),
        // drop the connection in enforce mode.
        if (config.mode === 'enforce') client.destroy();
        else toPlc(error.skipped);
      }
      for (const adu of adus) handleRequest(adu, out);
      emit(out);
    });

    plc.on('connect', () => {
      connected = true;
      plc.setTimeout(0);
      for (const b of queued.splice(0)) plc.write(b);
    });
    plc.on('data', (chunk: Buffer) => {
      client.write(chunk);
      const out: PendingEvent[] = [];
      const { adus, errors } = responses.push(chunk);
      for (const error of errors) out.push(modbusErrorToEvent(error, error.skipped, 'response', base()));
      for (const adu of adus) {
        const decoded = session.decode(adu, 'response', undefined);
        const ectx = base();
        if (!decoded.result.ok) {
          out.push(modbusErrorToEvent(decoded.result.error, adu.pdu, 'response', ectx, adu.header));
          continue;
        }
        if (decoded.request) values.learn(adu.header.unitId, decoded.request.pdu, decoded.result.pdu);
        out.push(modbusToEvent(adu.header, decoded.result.pdu, { ...ectx, anomalies: decoded.anomalies }));
      }
      emit(out);
    });
    plc.on('timeout', () => plc.destroy(new Error('connect timeout')));
    plc.on('error', (error) => {
      ctx.metrics.errors.inc({ component: name, stage: 'sending', code: 'upstream' });
      ctx.logger.warn({ err: error.message, endpoint: config.endpoint }, 'PLC connection failed');
      emit([unreachable(error.message)]);
    });
    plc.on('close', () => client.destroy());
    client.setTimeout(config.idle_timeout_secs * 1000, () => client.destroy());
    client.on('error', () => ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'socket' }));
    client.on('close', () => {
      plc.destroy();
      sockets.delete(client);
      ctx.metrics.connections.set({ source: name }, sockets.size);
    });

    const unreachable = (why: string): PendingEvent => {
      const now = ctx.now().toISOString();
      return {
        ts: now,
        received: now,
        source: 'modbus',
        kind: 'security',
        action: 'modbus.device_unreachable',
        severity: 3,
        message: `PLC ${config.endpoint} unreachable through proxy ${name}: ${why}`,
        device: {
          id: `modbus:${upstream.host}`,
          ...(config.device_name ? { name: config.device_name } : {}),
        },
        src: { ip: master.ip, port: master.port },
        dst: { ip: upstream.host, port: upstream.port },
        fields: { proxy: name, endpoint: config.endpoint, error: why },
        tags: [],
      };
    };
  };

  return {
    name,
    type: 'modbus_proxy',
    async start() {
      const s = net.createServer(onConnection);
      server = s;
      s.maxConnections = config.max_connections;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(listen.port, listen.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const bound = s.address() as net.AddressInfo;
      address = { transport: 'tcp', host: bound.address, port: bound.port };
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    addresses: () => (address ? [address] : []),
  };
}

/**
 * One master's connection through the proxy, with its own upstream connection to the PLC.
 * Requests are cut into ADUs (MBAP, Messaging on TCP/IP §3.1.3), decoded, screened and forwarded
 * byte for byte; responses are forwarded as they arrive and decoded on the side. In enforce mode
 * only requests that decoded, are well formed and that the policy allows reach the PLC; the rest
 * get the exception a conforming server would give (screen.ts), and a broken MBAP header closes
 * the connection. Flow control: the proxy stops reading from the master while the pipeline is
 * behind (events gathered and emits in flight), while bytes wait to be written to the PLC or to
 * the master, and while max_outstanding_requests requests wait for the PLC's answer. What was
 * read stays in the inbox (at most one socket read), so nothing is dropped and memory is bounded.
 * The socket plumbing is shared with the OT proxy (shared/tcp-relay.ts, shared/emit-gate.ts).
 */
import type net from 'node:net';
import {
  createMbapDeframer,
  createModbusSession,
  encodeException,
  encodeMbap,
  type MbapFramingError,
  type ModbusAdu,
  modbusErrorToEvent,
  type ModbusEventContext,
  modbusToEvent,
} from '../../../protocols/modbus/index.ts';
import type { SourceContext } from '../../pipeline/types.ts';
import { deviceUnreachableEvent } from '../shared/device-unreachable.ts';
import { createEmitGate } from '../shared/emit-gate.ts';
import { openTcpRelay } from '../shared/tcp-relay.ts';
import type { ModbusProxySourceConfig } from './config.ts';
import { decodedViolation, rawViolation, type ViolationInfo } from './events.ts';
import { checkPolicy } from './policy.ts';
import { type Refusal, screenRequest } from './screen.ts';
import type { ValueCache } from './values.ts';

/**
 * Bytes of a socket read cut into ADUs at a time. A 64 KiB read holds 5,461 FC 3 requests; made
 * into objects at once they would outlive a few collections while they wait their turn (and be
 * promoted to the old generation); the rest waits as bytes.
 */
const DEFRAME_SLICE_BYTES = 4096;

export interface ConnectionDeps {
  name: string;
  config: ModbusProxySourceConfig;
  ctx: SourceContext;
  values: ValueCache;
  upstream: { host: string; port: number };
}

type InboxItem = { adu: ModbusAdu } | { error: MbapFramingError };

export function handleConnection(client: net.Socket, deps: ConnectionDeps): void {
  const { name, config, ctx, values, upstream } = deps;
  // A response playbook may switch the proxy to enforce mode while it runs (gateway/playbooks).
  const enforcing = () => config.mode === 'enforce' || ctx.response?.modbusEnforced(name) === true;
  const server = { ip: upstream.host, port: upstream.port };
  const session = createModbusSession<undefined>();
  const requests = createMbapDeframer();
  const responses = createMbapDeframer();
  let closed = false;
  /** Bytes read from the master and not cut into ADUs yet (at most one socket read). */
  let unread: Buffer | undefined;
  let unreadAt = 0;
  /** Requests cut from `unread` and not handled yet. */
  let inbox: InboxItem[] = [];
  let next = 0;
  /** Forwarded requests not answered yet: transaction id → when forwarded (ms), oldest first. */
  const outstanding = new Map<number, number>();
  let expiry: NodeJS.Timeout | undefined;
  const gate = createEmitGate(ctx, { onSettled: () => pump() });

  const relay = openTcpRelay(client, deps, {
    // One session: a PLC that closes ends the master's connection, and the other way round.
    halfClose: false,
    onClientData(chunk) {
      // The socket is paused until the previous read is used up; should one still come, keep both.
      unread = unread ? Buffer.concat([unread.subarray(unreadAt), chunk]) : chunk;
      unreadAt = 0;
      pump();
    },
    onUpstreamData: (chunk) => handleResponses(chunk),
    onWritable: () => pump(),
    onUpstreamError(error) {
      ctx.metrics.errors.inc({ component: name, stage: 'sending', code: 'upstream' });
      ctx.logger.warn({ err: error.message, endpoint: config.endpoint }, 'PLC connection failed');
      gate.events.push(
        deviceUnreachableEvent({
          now: ctx.now(),
          protocol: 'modbus',
          label: 'PLC',
          proxy: name,
          endpoint: { key: 'endpoint', value: config.endpoint },
          upstream,
          client: master,
          deviceName: config.device_name,
          why: error.message,
        }),
      );
      gate.flush(true);
    },
    onClientClose() {
      closed = true;
      if (expiry) clearTimeout(expiry);
      gate.flush(true);
    },
  });
  const plc = relay.upstream;
  const master = relay.peer;

  const base = (): ModbusEventContext => ({
    received: ctx.now(),
    master,
    server,
    transport: 'tcp',
    extra: { proxy: name },
  });
  const buffered = () => relay.upstreamBacklog() + client.writableLength;
  const readBlocked = () =>
    gate.behind() ||
    buffered() >= config.max_buffered_bytes ||
    outstanding.size >= config.max_outstanding_requests;

  const forward = (adu: ModbusAdu) => {
    const tid = adu.header.transactionId;
    outstanding.delete(tid); // a reused id moves to the back
    outstanding.set(tid, Date.now());
    relay.send(encodeMbap(adu.header, adu.pdu));
  };

  const refuse = (adu: ModbusAdu, decoded: ReturnType<typeof session.decode>, refusal: Refusal) => {
    const ectx = base();
    const v: ViolationInfo = {
      proxy: name,
      mode: 'enforce',
      reason: refusal.reason,
      blocked: true,
      exceptionCode: refusal.exceptionCode,
      ...(refusal.detail ? { detail: refusal.detail } : {}),
    };
    const answer = encodeException(adu.pdu[0] ?? 0, refusal.exceptionCode);
    if (decoded.result.ok) {
      const pdu = decoded.result.pdu;
      const extra: Record<string, unknown> = { proxy: name, policy: 'blocked' };
      const previous = values.previous(adu.header.unitId, pdu);
      if (previous) extra.previous_values = previous;
      gate.events.push(modbusToEvent(adu.header, pdu, { ...ectx, extra, anomalies: decoded.anomalies }));
      gate.events.push(decodedViolation(adu.header, pdu, ectx, v, master.ip));
      // Closes the pairing the session opened: the PLC will never answer this one.
      session.decode({ header: adu.header, pdu: answer }, 'response', undefined);
    } else {
      gate.events.push(modbusErrorToEvent(decoded.result.error, adu.pdu, 'request', ectx, adu.header));
      gate.events.push(rawViolation(adu.pdu, adu.header, ectx, v, master.ip));
    }
    client.write(encodeMbap(adu.header, answer));
  };

  const handleRequest = (adu: ModbusAdu) => {
    const decoded = session.decode(adu, 'request', undefined);
    const enforce = enforcing();
    // A master a playbook denied gets an exception 01 to everything, in either mode.
    if (ctx.response?.modbusDenied(name, master.ip))
      return refuse(adu, decoded, { reason: 'denied_by_playbook', exceptionCode: 0x01 });
    if (enforce) {
      const refusal = screenRequest(config, master.ip, adu.header.unitId, adu.pdu, decoded.result);
      if (refusal) return refuse(adu, decoded, refusal);
    }
    const ectx = base();
    if (!decoded.result.ok) {
      // Monitor mode: reported, and forwarded (the proxy must not break the plant).
      gate.events.push(modbusErrorToEvent(decoded.result.error, adu.pdu, 'request', ectx, adu.header));
      return forward(adu);
    }
    const pdu = decoded.result.pdu;
    const verdict = enforce
      ? ({ allowed: true } as const)
      : checkPolicy(config, master.ip, adu.header.unitId, pdu);
    const extra: Record<string, unknown> = { proxy: name };
    const previous = values.previous(adu.header.unitId, pdu);
    if (previous) extra.previous_values = previous;
    if (!verdict.allowed) extra.policy = 'violation';
    gate.events.push(modbusToEvent(adu.header, pdu, { ...ectx, extra, anomalies: decoded.anomalies }));
    if (!verdict.allowed) {
      const v = { proxy: name, mode: 'monitor', reason: verdict.reason, blocked: false } as const;
      gate.events.push(decodedViolation(adu.header, pdu, ectx, v, master.ip));
    }
    forward(adu);
  };

  const handleFramingError = (error: MbapFramingError) => {
    ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: error.code });
    gate.events.push(modbusErrorToEvent(error, error.skipped, 'request', base()));
    if (!enforcing()) return relay.send(error.skipped); // not Modbus: forwarded unchanged in monitor mode
    const v = {
      proxy: name,
      mode: 'enforce',
      reason: 'invalid_framing',
      blocked: true,
      detail: error.code,
    } as const;
    gate.events.push(rawViolation(error.skipped, undefined, base(), v, master.ip));
    closed = true;
    client.destroy(); // MBAP gives no way to find the next frame: nothing after this is trusted
  };

  /** Drops requests the PLC left unanswered past response_timeout_secs (they never will be). */
  const expire = () => {
    const limit = Date.now() - config.response_timeout_secs * 1000;
    for (const [tid, at] of outstanding) {
      if (at > limit) break;
      outstanding.delete(tid);
      ctx.metrics.errors.inc({ component: name, stage: 'sending', code: 'response_timeout' });
    }
  };
  const armExpiry = () => {
    if (expiry || outstanding.size < config.max_outstanding_requests) return;
    const oldest = outstanding.values().next().value ?? Date.now();
    const wait = Math.max(1, oldest + config.response_timeout_secs * 1000 - Date.now());
    expiry = setTimeout(() => {
      expiry = undefined;
      pump();
    }, wait);
  };

  /** Handles what the inbox holds while nothing is behind, then pauses or resumes both sockets. */
  function pump(): void {
    if (closed) return;
    if (outstanding.size > 0) expire();
    // One write (writev) per round instead of one per request: fewer syscalls and native buffers.
    plc.cork();
    client.cork();
    while (!closed) {
      if (next >= inbox.length && !deframeMore()) break;
      if (gate.full()) gate.flush();
      if (readBlocked()) break;
      const item = inbox[next++]!;
      if ('adu' in item) handleRequest(item.adu);
      else handleFramingError(item.error);
    }
    plc.uncork();
    client.uncork();
    if (next >= inbox.length) {
      inbox = [];
      next = 0;
    }
    gate.flush();
    if (closed) return;
    if (next < inbox.length || unread || readBlocked()) {
      client.pause();
      armExpiry();
    } else client.resume();
    // Responses wait in the PLC's socket while the master does not read them or events are behind.
    if (client.writableLength >= config.max_buffered_bytes || gate.behind()) plc.pause();
    else plc.resume();
  }

  /** Cuts the next slice of `unread` into the (empty) inbox; false when nothing is left. */
  function deframeMore(): boolean {
    inbox = [];
    next = 0;
    while (unread && inbox.length === 0) {
      const end = Math.min(unread.length, unreadAt + DEFRAME_SLICE_BYTES);
      const { adus, errors } = requests.push(unread.subarray(unreadAt, end));
      unreadAt = end;
      // After a broken header the deframer drops what it holds; the rest of the read goes too,
      // as when a whole read was deframed at once (nothing in it can be trusted to align).
      if (end >= unread.length || errors.length > 0) unread = undefined;
      for (const adu of adus) inbox.push({ adu });
      for (const error of errors) inbox.push({ error }); // a framing error always follows the ADUs
    }
    return inbox.length > 0;
  }

  function handleResponses(chunk: Buffer): void {
    client.write(chunk);
    const { adus, errors } = responses.push(chunk);
    for (const error of errors)
      gate.events.push(modbusErrorToEvent(error, error.skipped, 'response', base()));
    for (const adu of adus) {
      outstanding.delete(adu.header.transactionId);
      const decoded = session.decode(adu, 'response', undefined);
      const ectx = base();
      if (!decoded.result.ok) {
        gate.events.push(modbusErrorToEvent(decoded.result.error, adu.pdu, 'response', ectx, adu.header));
        continue;
      }
      if (decoded.request) values.learn(adu.header.unitId, decoded.request.pdu, decoded.result.pdu);
      gate.events.push(
        modbusToEvent(adu.header, decoded.result.pdu, { ...ectx, anomalies: decoded.anomalies }),
      );
    }
    pump();
  }
}

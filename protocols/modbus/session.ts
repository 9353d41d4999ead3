/**
 * One Modbus/TCP connection seen from the middle (proxy or capture): pairs each response with its
 * request by MBAP transaction id (Messaging on TCP/IP Implementation Guide V1.0b §3.1.3: "used for
 * transaction pairing"), so that responses are decoded with the request's context (address, bit
 * count) and mismatches become visible: a response nobody asked for, a response whose unit or
 * function differs from its request, a transaction id reused while still open. Pure: no sockets,
 * no timers; the caller says which direction each ADU travelled.
 */
import { decodePdu } from './pdu-decode.ts';
import type { ModbusAdu, ModbusDirection, ModbusPduResult, ModbusPdu } from './types.ts';

/** Open requests kept per connection; older ones are forgotten (a server that never answers). */
export const MAX_OPEN_TRANSACTIONS = 256;

export interface OpenRequest<M> {
  unitId: number;
  pdu: ModbusPdu;
  /** Whatever the caller attached to the request (frame number, time). */
  meta: M;
}

export interface SessionDecode<M> {
  result: ModbusPduResult;
  /** The request this response answers, when one was open with the same transaction id. */
  request?: OpenRequest<M>;
  /** Pairing problems: `unmatched_response`, `transaction_mismatch`, `duplicate_transaction_id`. */
  anomalies: string[];
}

export interface ModbusSession<M> {
  decode(adu: ModbusAdu, direction: ModbusDirection, meta: M): SessionDecode<M>;
  /** Requests still waiting for a response. */
  open(): number;
}

export function createModbusSession<M = undefined>(): ModbusSession<M> {
  const pending = new Map<number, OpenRequest<M>>();
  return {
    decode(adu, direction, meta) {
      const tid = adu.header.transactionId;
      const anomalies: string[] = [];
      if (direction === 'request') {
        const result = decodePdu(adu.pdu, 'request');
        if (pending.has(tid)) {
          anomalies.push('duplicate_transaction_id');
          pending.delete(tid);
        }
        if (result.ok) {
          if (pending.size >= MAX_OPEN_TRANSACTIONS) {
            const oldest = pending.keys().next();
            if (!oldest.done) pending.delete(oldest.value);
          }
          pending.set(tid, { unitId: adu.header.unitId, pdu: result.pdu, meta });
        }
        return { result, anomalies };
      }
      const request = pending.get(tid);
      if (request) pending.delete(tid);
      const fc = adu.pdu[0];
      const agrees =
        request !== undefined &&
        request.unitId === adu.header.unitId &&
        (fc ?? 0) % 128 === request.pdu.function;
      if (!request) anomalies.push('unmatched_response');
      else if (!agrees) anomalies.push('transaction_mismatch');
      const result = decodePdu(adu.pdu, 'response', agrees ? { request: request.pdu } : {});
      return request ? { result, request, anomalies } : { result, anomalies };
    },
    open: () => pending.size,
  };
}

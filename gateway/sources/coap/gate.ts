/**
 * The UDP socket in front of the npm `coap` server. Every datagram is first read by our own codec
 * (protocols/coap): a malformed one is reported and, when it was a confirmable message with a
 * readable id, answered with a Reset (RFC 7252 §4.2); it never reaches the library. A retransmitted
 * request still being processed is dropped (§4.5 deduplication: its answer waits on the disk).
 * Every response is measured on its way out, so amplification is judged on the real bytes.
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import {
  type CoapError,
  type CoapMessage,
  decodeCoapMessage,
  encodeCoapMessage,
} from '../../../protocols/coap/index.ts';
import { normalizeIp } from '../../../protocols/event/address.ts';

export interface InboundRequest {
  message: CoapMessage;
  bytes: number;
  ip: string;
  port: number;
}

export interface GateHooks {
  maxMessageBytes: number;
  onMalformed(error: CoapError, bytes: Uint8Array, ip: string, port: number): void;
  onResponse(request: InboundRequest | undefined, response: Uint8Array, ip: string, port: number): void;
}

const key = (ip: string, port: number, mid: number) => `${ip}|${port}|${mid}`;

/** What the coap library sees as its socket: our checks in, measured sends out. */
export class CoapGate extends EventEmitter {
  private readonly inflight = new Map<string, InboundRequest>();
  /** Set once the socket closed: an answer finished during shutdown is dropped, not thrown. */
  private closed = false;

  constructor(
    private readonly sock: dgram.Socket,
    private readonly hooks: GateHooks,
  ) {
    super();
    sock.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    sock.on('error', (e) => this.emit('error', e));
    sock.on('close', () => {
      this.closed = true;
    });
  }

  /** The request being answered, by peer and message id (set until its response goes out). */
  request(ip: string, port: number, mid: number): InboundRequest | undefined {
    return this.inflight.get(key(ip, port, mid));
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo) {
    const ip = normalizeIp(rinfo.address);
    const r = decodeCoapMessage(msg, { maxMessageBytes: this.hooks.maxMessageBytes });
    if (!r.ok) {
      this.hooks.onMalformed(r.error, msg, ip, rinfo.port);
      if (r.error.type === 'CON' && r.error.messageId !== undefined) {
        const rst = encodeCoapMessage({ type: 'RST', code: 0, messageId: r.error.messageId });
        this.sock.send(rst, rinfo.port, rinfo.address);
      }
      return;
    }
    const m = r.message;
    const isRequest = m.code >= 1 && m.code <= 31;
    if (isRequest) {
      const k = key(ip, rinfo.port, m.messageId);
      if (this.inflight.has(k)) return; // a retransmission of a request in progress (§4.5)
      if (this.inflight.size > 10_000) this.inflight.clear();
      this.inflight.set(k, { message: m, bytes: msg.length, ip, port: rinfo.port });
    }
    this.emit('message', msg, rinfo);
  }

  /** The two call shapes the coap library uses: (buf, offset, length, port, host, cb) and (buf, port, host, cb). */
  send(buf: Buffer, ...args: unknown[]): void {
    let port: number;
    let host: string;
    let cb: ((err: Error | null, bytes?: number) => void) | undefined;
    if (typeof args[0] === 'number' && typeof args[1] === 'number') {
      port = args[2] as number;
      host = (args[3] as string | undefined) ?? '127.0.0.1';
      cb = args[4] as typeof cb;
    } else {
      port = args[0] as number;
      host = args[1] as string;
      cb = args[2] as typeof cb;
    }
    const ip = normalizeIp(host);
    const mid = buf.length >= 4 ? buf.readUInt16BE(2) : -1;
    const k = key(ip, port, mid);
    const request = this.inflight.get(k);
    this.inflight.delete(k);
    // A request whose event was queued just as the source stopped: dgram throws on a closed socket.
    if (this.closed) return;
    this.hooks.onResponse(request, buf, ip, port);
    this.sock.send(buf, 0, buf.length, port, host, cb);
  }

  address() {
    return this.sock.address();
  }
}

/**
 * Builders of OPC UA binary messages for tests (OPC 10000-6 §5.2 encodings, §6.7 and §7.1 chunk
 * headers): enough to write the HEL/ACK/OPN/MSG/CLO exchanges of a client and a server by hand,
 * so that unit and property tests do not need a capture, and so that a message can be split into
 * chunks or corrupted on purpose.
 */

export class Enc {
  private parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number): this {
    return this.u8(v)
      .u8(v >> 8)
      .u8(v >> 16)
      .u8(v >>> 24);
  }
  i32(v: number): this {
    return this.u32(v >>> 0);
  }
  f64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    for (const x of b) this.u8(x);
    return this;
  }
  raw(b: Uint8Array | number[]): this {
    for (const x of b) this.u8(x);
    return this;
  }
  string(s: string | null): this {
    if (s === null) return this.i32(-1);
    const b = Buffer.from(s, 'utf8');
    return this.i32(b.length).raw(b);
  }
  /** Numeric NodeId in the smallest encoding that fits. */
  nodeNum(id: number, ns = 0): this {
    if (ns === 0 && id < 256) return this.u8(0).u8(id);
    if (ns < 256 && id < 65536) return this.u8(1).u8(ns).u16(id);
    return this.u8(2).u16(ns).u32(id);
  }
  nodeStr(ns: number, s: string): this {
    return this.u8(3).u16(ns).string(s);
  }
  dateTime(ms: number | null): this {
    if (ms === null) return this.u32(0).u32(0);
    const ticks = BigInt(ms + 11_644_473_600_000) * 10_000n;
    return this.u32(Number(ticks & 0xffffffffn)).u32(Number(ticks >> 32n));
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function requestHeader(e: Enc, handle: number, token = 0): Enc {
  return e
    .nodeNum(token, token ? 1 : 0)
    .dateTime(1_700_000_000_000)
    .u32(handle)
    .u32(0)
    .string(null)
    .u32(10_000)
    .nodeNum(0)
    .u8(0);
}

export function responseHeader(e: Enc, handle: number, status = 0): Enc {
  return e.dateTime(1_700_000_000_000).u32(handle).u32(status).u8(0).i32(-1).nodeNum(0).u8(0);
}

/** A chunk: message type, chunk type, size, then `body`. */
export function chunk(type: string, body: Uint8Array, chunkType = 'F'): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  out.set(Buffer.from(type + chunkType, 'latin1'));
  new DataView(out.buffer).setUint32(4, out.length, true);
  out.set(body, 8);
  return out;
}

export function hello(url = 'opc.tcp://plc:4840'): Uint8Array {
  return chunk('HEL', new Enc().u32(0).u32(65535).u32(65535).u32(0).u32(0).string(url).bytes());
}

export function ack(): Uint8Array {
  return chunk('ACK', new Enc().u32(0).u32(65535).u32(65535).u32(0).u32(0).bytes());
}

const NONE = 'http://opcfoundation.org/UA/SecurityPolicy#None';

export function openRequest(policy = NONE, requestId = 1, mode = 1): Uint8Array {
  const e = new Enc().u32(0).string(policy).i32(-1).i32(-1).u32(1).u32(requestId).nodeNum(446);
  requestHeader(e, 0).u32(0).u32(0).u32(mode).i32(-1).u32(600_000);
  return chunk('OPN', e.bytes());
}

/** A MSG chunk on channel 3, token 1: the service's encoding id, then `body`. */
export function msg(
  seq: number,
  requestId: number,
  typeId: number,
  body: (e: Enc) => Enc,
  chunkType = 'F',
): Uint8Array {
  const e = new Enc().u32(3).u32(1).u32(seq).u32(requestId).nodeNum(typeId);
  return chunk('MSG', body(e).bytes(), chunkType);
}

/** WriteRequest (673) of one Double to `ns=1;s=<node>`. */
export function writeRequest(
  seq: number,
  requestId: number,
  node: string,
  value: number,
  token = 7,
): Uint8Array {
  return msg(seq, requestId, 673, (e) =>
    requestHeader(e, requestId, token)
      .i32(1)
      .nodeStr(1, node)
      .u32(13)
      .string(null)
      .u8(0x01)
      .u8(11)
      .f64(value),
  );
}

export function writeResponse(seq: number, requestId: number, status = 0): Uint8Array {
  return msg(seq, requestId, 676, (e) => responseHeader(e, requestId).i32(1).u32(status).i32(0));
}

/** CreateSessionRequest (461) from `appUri`. */
export function createSessionRequest(seq: number, requestId: number, appUri: string): Uint8Array {
  return msg(seq, requestId, 461, (e) =>
    requestHeader(e, requestId)
      .string(appUri)
      .string('urn:product')
      .u8(0x02)
      .string('HMI')
      .u32(1)
      .string(null)
      .string(null)
      .i32(0)
      .string(null)
      .string('opc.tcp://plc:4840')
      .string('session-1')
      .i32(-1)
      .i32(-1)
      .f64(1_200_000)
      .u32(0),
  );
}

/** CreateSessionResponse (464) giving authentication token `ns=1;i=<token>`. */
export function createSessionResponse(seq: number, requestId: number, token: number): Uint8Array {
  return msg(seq, requestId, 464, (e) =>
    responseHeader(e, requestId)
      .nodeNum(token + 1000, 1)
      .nodeNum(token, 1)
      .f64(1_200_000)
      .i32(-1)
      .i32(-1)
      .i32(0)
      .i32(0)
      .string(null)
      .i32(-1)
      .u32(0),
  );
}

/** ActivateSessionRequest (467) with an anonymous (321) or user name (324) identity. */
export function activateSessionRequest(
  seq: number,
  requestId: number,
  token: number,
  user?: string,
): Uint8Array {
  return msg(seq, requestId, 467, (e) => {
    requestHeader(e, requestId, token).string(null).i32(-1).i32(0).i32(0);
    if (user === undefined) {
      const body = new Enc().string('anonymous').bytes();
      return e.nodeNum(321).u8(1).i32(body.length).raw(body);
    }
    const body = new Enc().string('username').string(user).string('secret').string(null).bytes();
    return e.nodeNum(324).u8(1).i32(body.length).raw(body);
  });
}

export const POLICY_NONE = NONE;

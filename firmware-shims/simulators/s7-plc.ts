/**
 * A simulated Siemens S7-300-class controller speaking S7comm on ISO-on-TCP (TPKT, RFC 1006; COTP
 * class 0), and a client to poll or attack it, both built on the project's S7comm codec (TPKT
 * deframer, COTP and S7 PDU decoders, TPKT encoder). The controller accepts COTP connection
 * requests, answers Setup Communication, Read Var and Write Var on its data blocks (DB1 holds a
 * pumping station: level and pressure as INT, flow as REAL, the pump state as a bit, all moving
 * every `stepMs` while it runs), userdata Read SZL 0x0011 (module identification: order number,
 * firmware) and 0x001c (component identification: station, module, serial number), and PLC STOP
 * (function 0x29), after which it stays in STOP (its values freeze) until `run()`. Layouts are
 * Wireshark's packet-s7comm.c, as the codec's. Used by the demo plant and the ot-proxy tests. The
 * TCP plumbing is shared with the DNP3 simulator (tcp-device.ts).
 */
import {
  createTpktDeframer,
  decodeS7Pdu,
  encodeTpkt,
  parseCotp,
  type S7Pdu,
} from '../../protocols/s7comm/index.ts';
import {
  connectTcpClient,
  listenTcpDevice,
  pendingRequests,
  startPolling,
  type TcpClientOptions,
} from './tcp-device.ts';

/** Area codes of S7ANY addresses (packet-s7comm.c). */
export const S7_AREA = { INPUTS: 0x81, OUTPUTS: 0x82, FLAGS: 0x83, DB: 0x84 } as const;
/** Transport sizes of S7ANY items: BIT 1, BYTE 2, WORD 4, INT 5, DWORD 6, DINT 7, REAL 8. */
export const S7_TYPE = { BIT: 1, BYTE: 2, WORD: 4, INT: 5, DWORD: 6, DINT: 7, REAL: 8 } as const;
const TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 4, 8: 4 };

/** DB1 of the pumping station: byte offsets of its variables. */
export const STATION_DB = { db: 1, level: 0, pressure: 2, flow: 4, pumpByte: 8 } as const;

export const S7_IDENTITY = {
  orderNumber: '6ES7 315-2EH14-0AB0',
  firmware: [3, 2, 6] as const,
  stationName: 'pump-station-s7',
  moduleName: 'CPU 315-2 PN/DP',
  serialNumber: 'S C-H4T906512012',
};

export interface S7PlcOptions {
  host?: string;
  port?: number;
  /** How often the process moves while in RUN (default 1000 ms; 0: never). */
  stepMs?: number;
  /** After a PLC STOP, back to RUN after this long, as if an operator restarted it (default: never). */
  recoverMs?: number;
}

export interface S7Plc {
  port: number;
  mode(): 'run' | 'stop';
  /** Back to RUN (what the engineering station would do after a stop). */
  run(): void;
  /** PLC STOP requests accepted so far. */
  stops: number;
  db(n: number): Buffer | undefined;
  stop(): Promise<void>;
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const DT = [0x02, 0xf0, 0x80];

/** An S7 PDU (header, parameters, data) in a COTP DT in a TPKT. */
export function s7Frame(
  rosctr: number,
  pduRef: number,
  param: number[],
  data: number[] = [],
  error?: [number, number],
): Buffer {
  const head = [0x32, rosctr, 0, 0, ...u16(pduRef), ...u16(param.length), ...u16(data.length)];
  if (rosctr === 2 || rosctr === 3) head.push(...(error ?? [0, 0]));
  return Buffer.from(encodeTpkt(Uint8Array.from([...DT, ...head, ...param, ...data])));
}

/** The TPKT/COTP DT payloads (S7 PDUs) and the COTP TPDUs of a byte stream. */
function reader(on: (cotp: Uint8Array, type: number, payload: Uint8Array) => void) {
  const tpkt = createTpktDeframer();
  return (chunk: Uint8Array) => {
    for (const tpdu of tpkt.push(chunk).tpdus) {
      const c = parseCotp(tpdu);
      if (c.ok) on(tpdu, c.value.type, c.value.payload);
    }
  };
}

const text = (s: string, n: number) => {
  const b = Buffer.alloc(n, 0x20);
  b.write(s.slice(0, n), 'latin1');
  return [...b];
};

function szl(id: number, index: number): number[] {
  const entries: number[][] = [];
  let entryBytes = 0;
  if ((id & 0xff) === 0x11) {
    entryBytes = 28;
    entries.push([...u16(1), ...text(S7_IDENTITY.orderNumber, 20), 0, 0, 0, 0, 0, 0]);
    entries.push([...u16(7), ...text('', 20), 0, 0, 0x56, ...S7_IDENTITY.firmware]);
  } else if ((id & 0xff) === 0x1c) {
    entryBytes = 34;
    const fields: Array<[number, string]> = [
      [1, S7_IDENTITY.stationName],
      [2, S7_IDENTITY.moduleName],
      [3, 'water-works'],
      [5, S7_IDENTITY.serialNumber],
      [7, S7_IDENTITY.moduleName],
    ];
    for (const [i, v] of fields)
      entries.push([
        ...u16(i),
        ...Buffer.alloc(32)
          .fill(0)
          .map((_, k) => v.charCodeAt(k) || 0),
      ]);
  }
  return [...u16(id), ...u16(index), ...u16(entryBytes), ...u16(entries.length), ...entries.flat()];
}

export async function startS7Plc(o: S7PlcOptions = {}): Promise<S7Plc> {
  const dbs = new Map<number, Buffer>([[STATION_DB.db, Buffer.alloc(16)]]);
  let mode: 'run' | 'stop' = 'run';
  let stops = 0;
  let recovery: NodeJS.Timeout | undefined;
  let t = 0;
  const step = () => {
    if (mode !== 'run') return;
    t += 1;
    const db = dbs.get(STATION_DB.db)!;
    db.writeInt16BE(Math.round(620 + 180 * Math.sin(t / 15)), STATION_DB.level);
    db.writeInt16BE(Math.round(410 + 40 * Math.sin(t / 6)), STATION_DB.pressure);
    db.writeFloatBE(Number((36 + 6 * Math.sin(t / 9)).toFixed(2)), STATION_DB.flow);
    db[STATION_DB.pumpByte] = Math.sin(t / 15) < 0.5 ? 1 : 0;
  };
  step();
  const timer = (o.stepMs ?? 1000) > 0 ? setInterval(step, o.stepMs ?? 1000) : undefined;
  timer?.unref();

  const readItem = (item: NonNullable<S7Pdu['items']>[number]): number[] => {
    const db = item.area === S7_AREA.DB ? dbs.get(item.db ?? 0) : undefined;
    const size = TYPE_BYTES[item.transportSize ?? 2] ?? 1;
    const bytes = size * (item.length ?? 1);
    const at = (item.address ?? 0) >> 3;
    if (!db || at + bytes > db.length) return [0x0a, 0x00, 0x00, 0x00]; // object does not exist
    if (item.transportSize === S7_TYPE.BIT) {
      const bit = (db[at]! >> ((item.address ?? 0) & 7)) & 1;
      return [0xff, 0x03, ...u16(1), bit];
    }
    return [0xff, 0x04, ...u16(bytes * 8), ...db.subarray(at, at + bytes)];
  };

  const answer = (pdu: S7Pdu): Buffer | undefined => {
    const ref = pdu.pduRef;
    if (pdu.rosctr === 7 && pdu.userdata) {
      const u = pdu.userdata;
      if (u.group !== 4 || u.subfunction !== 1) return undefined;
      const list = szl(u.szlId ?? 0, u.szlIndex ?? 0);
      const param = [0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, u.sequence, 0x00, 0x00, 0x00, 0x00];
      return s7Frame(7, ref, param, [0xff, 0x09, ...u16(list.length), ...list]);
    }
    if (pdu.rosctr !== 1) return undefined;
    switch (pdu.function) {
      case 0xf0:
        return s7Frame(3, ref, [0xf0, 0x00, 0, 1, 0, 1, ...u16(Math.min(pdu.pduLength ?? 240, 480))]);
      case 0x04: {
        const items = pdu.items ?? [];
        const data: number[] = [];
        items.forEach((item, i) => {
          const d = readItem(item);
          data.push(...d);
          if (d.length % 2 === 1 && i < items.length - 1) data.push(0);
        });
        return s7Frame(3, ref, [0x04, items.length], data);
      }
      case 0x05: {
        const items = pdu.items ?? [];
        const codes = items.map((item, i) => {
          const db = item.area === S7_AREA.DB ? dbs.get(item.db ?? 0) : undefined;
          const hex = pdu.data?.[i]?.value ?? '';
          const bytes = Buffer.from(hex, 'hex');
          const at = (item.address ?? 0) >> 3;
          if (!db || at + bytes.length > db.length) return 0x0a;
          bytes.copy(db, at);
          return 0xff;
        });
        return s7Frame(3, ref, [0x05, items.length], codes);
      }
      case 0x29:
        mode = 'stop';
        stops += 1;
        if (o.recoverMs) {
          clearTimeout(recovery);
          recovery = setTimeout(() => void (mode = 'run'), o.recoverMs);
          recovery.unref();
        }
        return s7Frame(3, ref, [0x29]);
      default:
        return s7Frame(3, ref, [], [], [0x81, 0x04]); // function not implemented
    }
  };

  const server = await listenTcpDevice(o, (socket) => {
    socket.on(
      'data',
      reader((cotp, type, payload) => {
        if (type === 0x0e) {
          // Connection confirm: the request's parameters, its reference as ours to answer (X.224 §13.4).
          const cc = Uint8Array.from(cotp);
          cc[1] = 0xd0;
          cc[2] = cotp[4]!;
          cc[3] = cotp[5]!;
          cc[4] = 0x00;
          cc[5] = 0x01;
          socket.write(encodeTpkt(cc));
          return;
        }
        if (type !== 0x0f) return;
        const r = decodeS7Pdu(payload);
        if (!r.ok || r.value.protocol !== 's7comm') return;
        const reply = answer(r.value);
        if (reply && !socket.destroyed) socket.write(reply);
      }),
    );
  });
  return {
    port: server.port,
    mode: () => mode,
    run: () => void (mode = 'run'),
    get stops() {
      return stops;
    },
    db: (n) => dbs.get(n),
    async stop() {
      if (timer) clearInterval(timer);
      clearTimeout(recovery);
      await server.stop();
    },
  };
}

export interface S7ClientOptions extends TcpClientOptions {
  timeoutMs?: number;
}

export interface S7ReadItem {
  area?: number;
  db?: number;
  /** Byte offset (bit offset for BIT items is `bit`). */
  byte: number;
  bit?: number;
  type: number;
  count?: number;
}

export interface S7Client {
  /** Sends one S7 PDU (rosctr, parameters, data) and resolves with the answer, or undefined. */
  request(rosctr: number, param: number[], data?: number[]): Promise<S7Pdu | undefined>;
  read(items: S7ReadItem[]): Promise<S7Pdu | undefined>;
  readSzl(id: number, index?: number): Promise<S7Pdu | undefined>;
  plcStop(): Promise<S7Pdu | undefined>;
  close(): void;
}

/** Connects (COTP CR to rack 0 slot 2, as engineering tools do) and sets up communication. */
export async function connectS7Client(o: S7ClientOptions): Promise<S7Client> {
  const socket = await connectTcpClient(o);
  const timeoutMs = o.timeoutMs ?? 2000;
  let ref = 0;
  const pending = pendingRequests<number, S7Pdu>(socket, timeoutMs);
  let confirmed: (() => void) | undefined;
  socket.on(
    'data',
    reader((_cotp, type, payload) => {
      if (type === 0x0d) return confirmed?.();
      if (type !== 0x0f) return;
      const r = decodeS7Pdu(payload);
      if (r.ok && r.value.protocol === 's7comm') pending.answer(r.value.pduRef, r.value);
    }),
  );
  // COTP CR: class 0, TPDU size 1024, calling TSAP 0x0100, called TSAP 0x0102 (rack 0, slot 2).
  const cr = [0x11, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 0x01, 0x00, 0xc2, 2, 0x01, 0x02];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no COTP connection confirm')), timeoutMs);
    confirmed = () => {
      clearTimeout(timer);
      resolve();
    };
    socket.write(encodeTpkt(Uint8Array.from(cr)));
  });
  const request = (rosctr: number, param: number[], data: number[] = []) => {
    ref = (ref % 0xffff) + 1;
    const r = ref;
    return pending.request(r, () => socket.write(s7Frame(rosctr, r, param, data)));
  };
  const setup = await request(1, [0xf0, 0x00, 0, 1, 0, 1, ...u16(480)]);
  if (!setup) {
    socket.destroy();
    throw new Error('no answer to setup communication');
  }
  let seq = 0;
  return {
    request,
    read(items) {
      const param = [0x04, items.length];
      for (const i of items) {
        const address = i.byte * 8 + (i.bit ?? 0);
        param.push(0x12, 0x0a, 0x10, i.type, ...u16(i.count ?? 1), ...u16(i.db ?? 0), i.area ?? S7_AREA.DB);
        param.push((address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
      }
      return request(1, param);
    },
    readSzl(id, index = 0) {
      seq = (seq + 1) & 0xff;
      return request(
        7,
        [0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, seq],
        [0xff, 0x09, 0, 4, ...u16(id), ...u16(index)],
      );
    },
    plcStop: () => request(1, [0x29, 0, 0, 0, 0, 0, 9, ...Buffer.from('P_PROGRAM', 'latin1')]),
    close: () => socket.end(),
  };
}

/** The station's HMI: reads the identity once, then DB1's level, pressure, flow and pump every `intervalMs`. */
export function startS7Hmi(o: S7ClientOptions & { intervalMs?: number }) {
  return startPolling({
    intervalMs: o.intervalMs ?? 2000,
    async connect() {
      const client = await connectS7Client(o);
      await client.readSzl(0x001c);
      await client.readSzl(0x0011);
      return client;
    },
    poll: async (client) =>
      (await client.read([
        { db: STATION_DB.db, byte: STATION_DB.level, type: S7_TYPE.INT },
        { db: STATION_DB.db, byte: STATION_DB.pressure, type: S7_TYPE.INT },
        { db: STATION_DB.db, byte: STATION_DB.flow, type: S7_TYPE.REAL },
        { db: STATION_DB.db, byte: STATION_DB.pumpByte, bit: 0, type: S7_TYPE.BIT },
      ])) !== undefined,
  });
}

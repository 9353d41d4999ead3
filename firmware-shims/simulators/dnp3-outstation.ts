/**
 * A simulated DNP3 outstation (IEEE 1815-2012) on TCP, and a master to poll or attack it, both
 * built on the project's DNP3 codec (link deframer, transport reassembly, application decoder,
 * link/transport encoders). The outstation serves 4 binary inputs (g1v2, breaker and alarm
 * states) and 4 analog inputs (g30v1, feeder voltages and currents) whose values move every
 * `stepMs`; it answers integrity and class polls (g60) and reads of g1/g30 with a response (§4.4.1),
 * WRITE of IIN1.7 (g80v1, §4.4.2), COLD_RESTART and WARM_RESTART with a time delay (g52v1,
 * §4.4.11–12) after which it comes back with its values reset and IIN1.7 DEVICE_RESTART set, and
 * every other request with IIN2.0 NO_FUNC_CODE_SUPPORT. Used by the demo plant and the ot-proxy
 * tests. The TCP plumbing is shared with the S7 simulator (tcp-device.ts).
 */
import {
  createLinkDeframer,
  createTransportReassembler,
  decodeApdu,
  type Dnp3Apdu,
  encodeFragment,
} from '../../protocols/dnp3/index.ts';
import {
  connectTcpClient,
  listenTcpDevice,
  pendingRequests,
  startPolling,
  type TcpClientOptions,
} from './tcp-device.ts';

/** Application function codes used here (IEEE 1815-2012 Table 4-1). */
export const DNP3_FC = {
  CONFIRM: 0,
  READ: 1,
  WRITE: 2,
  DIRECT_OPERATE: 5,
  COLD_RESTART: 13,
  WARM_RESTART: 14,
  RESPONSE: 0x81,
} as const;

const IIN1_DEVICE_RESTART = 0x80;
const IIN2_NO_FUNC_CODE_SUPPORT = 0x01;

/** Reads DNP3 application fragments from one direction of a byte stream. */
export function createFragmentReader(onApdu: (apdu: Dnp3Apdu, source: number) => void) {
  const link = createLinkDeframer();
  const transport = createTransportReassembler<undefined>();
  return (data: Uint8Array) => {
    for (const item of link.push(data)) {
      if (item.type !== 'frame' || item.frame.data.length === 0) continue;
      const h = item.frame.header;
      const t = transport.push(`${h.source}|${h.destination}`, item.frame.data, undefined);
      if (t?.type !== 'fragment') continue;
      const r = decodeApdu(t.data);
      if (r.ok) onApdu(r.apdu, h.source);
    }
  };
}

/** The link frames of one application fragment, with the sender's transport sequence. */
function framer(source: number, destination: number, dir: boolean) {
  let seq = 0;
  return (apdu: Uint8Array): Buffer => {
    const frames = encodeFragment(apdu, { source, destination, dir, firstSeq: seq });
    seq = (seq + frames.length) & 0x3f;
    return Buffer.concat(frames);
  };
}

export interface Dnp3OutstationOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The outstation's link address (default 10). */
  address?: number;
  /** How often the values move (default 1000 ms; 0: never). */
  stepMs?: number;
  /** The restart delay announced in g52v1 and waited before the outstation answers again (default 1 s). */
  restartDelaySecs?: number;
}

export interface Dnp3Outstation {
  port: number;
  address: number;
  binary: boolean[];
  analog: number[];
  /** Cold and warm restarts accepted so far. */
  restarts: { cold: number; warm: number };
  stop(): Promise<void>;
}

const INITIAL_ANALOG = [11_000, 10_950, 120, 95];

const u16le = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const i32le = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return [...b];
};

export async function startDnp3Outstation(o: Dnp3OutstationOptions = {}): Promise<Dnp3Outstation> {
  const address = o.address ?? 10;
  const restartMs = (o.restartDelaySecs ?? 1) * 1000;
  const state = {
    binary: [true, false, true, false],
    analog: [...INITIAL_ANALOG],
    restarted: true,
    downUntil: 0,
    step: 0,
  };
  const restarts = { cold: 0, warm: 0 };

  const step = () => {
    state.step += 1;
    const t = state.step;
    state.analog[0] = Math.round(11_000 + 150 * Math.sin(t / 10));
    state.analog[1] = Math.round(10_950 + 120 * Math.sin(t / 12 + 1));
    state.analog[2] = Math.round(120 + 30 * Math.sin(t / 7));
    state.analog[3] = Math.round(95 + 25 * Math.sin(t / 9 + 2));
    if (t % 15 === 0) state.binary[3] = !state.binary[3];
  };
  const timer = (o.stepMs ?? 1000) > 0 ? setInterval(step, o.stepMs ?? 1000) : undefined;
  timer?.unref();

  const objects = (binary: boolean, analog: boolean): number[] => {
    const out: number[] = [];
    if (binary) {
      out.push(1, 2, 0x00, 0, state.binary.length - 1);
      for (const b of state.binary) out.push(0x01 | (b ? 0x80 : 0));
    }
    if (analog) {
      out.push(30, 1, 0x00, 0, state.analog.length - 1);
      for (const v of state.analog) out.push(0x01, ...i32le(v));
    }
    return out;
  };

  const answer = (req: Dnp3Apdu): number[] | undefined => {
    const iin1 = state.restarted ? IIN1_DEVICE_RESTART : 0;
    const head = (iin2 = 0) => [0xc0 | req.control.seq, DNP3_FC.RESPONSE, iin1, iin2];
    switch (req.function) {
      case DNP3_FC.CONFIRM:
        return undefined;
      case DNP3_FC.READ: {
        let binary = false;
        let analog = false;
        for (const h of req.objects) {
          if (h.group === 60 && h.variation === 1) binary = analog = true;
          if (h.group === 1) binary = true;
          if (h.group === 30) analog = true;
        }
        return [...head(), ...objects(binary, analog)];
      }
      case DNP3_FC.WRITE:
        // g80v1 index 7 cleared: the master has seen the restart (§4.4.2, §5.2.2).
        if (req.objects.some((h) => h.group === 80)) state.restarted = false;
        return [...head().slice(0, 2), 0, 0];
      case DNP3_FC.COLD_RESTART:
      case DNP3_FC.WARM_RESTART: {
        if (req.function === DNP3_FC.COLD_RESTART) restarts.cold += 1;
        else restarts.warm += 1;
        state.downUntil = Date.now() + restartMs;
        state.analog = [...INITIAL_ANALOG];
        state.binary = [false, false, false, false];
        state.restarted = true;
        // g52v1: the coarse time delay, in seconds, before the master may talk to it again.
        return [...head(), 52, 1, 0x07, 1, ...u16le(Math.ceil(restartMs / 1000))];
      }
      default:
        return head(IIN2_NO_FUNC_CODE_SUPPORT);
    }
  };

  const server = await listenTcpDevice(o, (socket) => {
    const send = new Map<number, (apdu: Uint8Array) => Buffer>();
    const read = createFragmentReader((req, master) => {
      if (req.direction !== 'request' || Date.now() < state.downUntil) return;
      const reply = answer(req);
      if (!reply) return;
      let f = send.get(master);
      if (!f) send.set(master, (f = framer(address, master, false)));
      if (!socket.destroyed) socket.write(f(Uint8Array.from(reply)));
    });
    socket.on('data', read);
  });
  return {
    port: server.port,
    address,
    get binary() {
      return state.binary;
    },
    get analog() {
      return state.analog;
    },
    restarts,
    async stop() {
      if (timer) clearInterval(timer);
      await server.stop();
    },
  };
}

export interface Dnp3MasterOptions extends TcpClientOptions {
  /** The master's link address (default 1). */
  address?: number;
  /** The outstation's link address (default 10). */
  outstation?: number;
  timeoutMs?: number;
}

export interface Dnp3Master {
  /** Sends an application request (function code and object bytes); resolves with the response. */
  request(fc: number, objects?: number[]): Promise<Dnp3Apdu | undefined>;
  /** An integrity poll: class 1, 2, 3 then class 0 (g60v2–4, g60v1). */
  integrityPoll(): Promise<Dnp3Apdu | undefined>;
  close(): void;
}

export async function connectDnp3Master(o: Dnp3MasterOptions): Promise<Dnp3Master> {
  const address = o.address ?? 1;
  const socket = await connectTcpClient(o);
  const send = framer(address, o.outstation ?? 10, true);
  let seq = 0;
  const pending = pendingRequests<number, Dnp3Apdu>(socket, o.timeoutMs ?? 2000);
  socket.on(
    'data',
    createFragmentReader((apdu) => {
      if (apdu.direction === 'response') pending.answer(apdu.control.seq, apdu);
    }),
  );
  const request = (fc: number, objects: number[] = []) => {
    const s = seq;
    seq = (seq + 1) & 0x0f;
    return pending.request(s, () => socket.write(send(Uint8Array.from([0xc0 | s, fc, ...objects]))));
  };
  return {
    request,
    integrityPoll: () => request(DNP3_FC.READ, [60, 2, 0x06, 60, 3, 0x06, 60, 4, 0x06, 60, 1, 0x06]),
    close: () => socket.end(),
  };
}

/** A master polling the outstation every `intervalMs` (integrity poll), clearing IIN1.7 after a restart. */
export function startDnp3Poller(o: Dnp3MasterOptions & { intervalMs?: number }) {
  return startPolling({
    intervalMs: o.intervalMs ?? 2000,
    connect: () => connectDnp3Master(o),
    async poll(master) {
      const r = await master.integrityPoll();
      if (!r) return false;
      if (r.iin !== undefined && r.iin & (IIN1_DEVICE_RESTART << 8))
        await master.request(DNP3_FC.WRITE, [80, 1, 0x00, 7, 7, 0x00]);
      return true;
    },
  });
}

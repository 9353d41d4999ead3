/**
 * The soak's load generator, a child process of the driver (IPC): syslog over TCP (LF framing,
 * RFC 6587 §3.4.2) and UDP (RFC 5426), MQTT 3.1.1 QoS 1 publishes to the gateway's broker, and
 * Modbus/TCP reads (FC 3) through the gateway's proxy, at a steady total rate shared by MIX. Each
 * message carries its connection and its index on it (types.ts), and each connection's record says
 * how much went over it, which MQTT publishes were never acknowledged and whether it was cut by a
 * gateway kill. Pacing is a token bucket per stream holding at most one second: what could not be
 * sent in time (gateway down, socket full, PLC silent) is counted as `behind`, not sent later.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { MqttClient } from 'mqtt';
import {
  type ConnRecord,
  type FromLoad,
  type LoadConfig,
  MIX,
  modbusRead,
  type Stream,
  STREAMS,
  SYSLOG_MARKER,
  type ToLoad,
} from './types.ts';

const TICK_MS = 20;
/** MQTT publishes in flight per client before it counts as behind. */
const MQTT_WINDOW = 500;
/** Modbus requests outstanding per connection (the PLC may fall silent: force listen only). */
const MODBUS_WINDOW = 16;
const MODBUS_TIMEOUT_MS = 3000;

const send = (m: FromLoad) => process.send?.(m);

let gatewayDown = false;
let stopping = false;
const records: ConnRecord[] = [];
const sentTotal: Record<Stream, number> = { tcp: 0, udp: 0, mqtt: 0, modbus: 0 };
const behind: Record<Stream, number> = { tcp: 0, udp: 0, mqtt: 0, modbus: 0 };
const nextConn: Record<Stream, number> = { tcp: 1, udp: 1, mqtt: 1, modbus: 1 };

function newRecord(stream: Stream, conn = nextConn[stream]++): ConnRecord {
  const r: ConnRecord = { stream, conn, sent: 0, ended: 'open' };
  records.push(r);
  return r;
}
const endRecord = (r: ConnRecord) => {
  if (r.ended === 'open') r.ended = stopping ? 'end' : gatewayDown ? 'kill' : 'broken';
};

// Benign lines in the shapes a plant forwards (no sshd failures, no firewall blocks: the load must
// not look like the attacks whose alerts the soak counts).
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function syslogLine(n: number, now: Date, marker: string): string {
  const host = `plc-${String(n % 20).padStart(2, '0')}`;
  const bsd = `${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${now.toTimeString().slice(0, 8)}`;
  switch (n % 4) {
    case 0:
      return `<134>1 ${now.toISOString()} ${host} historian 4711 - - tank level ${(n % 1000) / 10} % line 2 ${marker}`;
    case 1:
      return `<30>${bsd} ${host} systemd[1]: Started plc-bridge housekeeping. ${marker}`;
    case 2:
      return `<189>${bsd} sw-line2-${n % 4}: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet1/0/${n % 48}, changed state to up ${marker}`;
    default:
      return `<14>1 ${now.toISOString()} hmi-${n % 3} hmi - - - operator acknowledged alarm ${n % 97} on pump P-${n % 12} ${marker}`;
  }
}

interface Sender {
  /** Sends up to `n` messages now; returns how many went. */
  push(n: number): number;
  stop(): Promise<void>;
}

/** One TCP syslog connection at a time per slot, reconnecting whenever it breaks. */
function tcpSlot(c: LoadConfig): Sender {
  let socket: net.Socket | undefined;
  let rec: ConnRecord | undefined;
  let writable = false;
  let done = false;
  const connect = () => {
    if (done) return;
    const s = net.connect(c.ports.syslogTcp, c.host);
    s.setNoDelay(true);
    s.once('connect', () => {
      socket = s;
      rec = newRecord('tcp');
      writable = true;
    });
    s.on('drain', () => (writable = true));
    s.on('error', () => undefined);
    s.once('close', () => {
      if (socket === s) {
        endRecord(rec!);
        socket = undefined;
        writable = false;
      }
      setTimeout(connect, 200);
    });
  };
  connect();
  return {
    push(n) {
      if (!socket || !writable || !rec) return 0;
      const now = new Date();
      let text = '';
      for (let k = 0; k < n; k += 1) {
        text += `${syslogLine(rec.sent + k, now, `${SYSLOG_MARKER}T${rec.conn}.${rec.sent + k}`)}\n`;
      }
      rec.sent += n;
      writable = socket.write(text);
      return n;
    },
    async stop() {
      done = true;
      if (socket) {
        const s = socket;
        await new Promise<void>((resolve) => s.end(resolve));
        s.destroy();
      }
    },
  };
}

function udpSender(c: LoadConfig): Sender {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  const rec = newRecord('udp');
  rec.sentWhileDown = 0;
  let pending = 0;
  return {
    push(n) {
      const now = new Date();
      for (let k = 0; k < n; k += 1) {
        const line = syslogLine(rec.sent, now, `${SYSLOG_MARKER}U${rec.conn}.${rec.sent}`);
        rec.sent += 1;
        if (gatewayDown) {
          rec.indexAtKill ??= rec.sent - 1;
          rec.sentWhileDown! += 1;
        }
        pending += 1;
        socket.send(line, c.ports.syslogUdp, c.host, () => (pending -= 1));
      }
      return n;
    },
    async stop() {
      while (pending > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      rec.ended = 'end';
      socket.close();
    },
  };
}

/** One MQTT client identity; a fresh client (and record) per connection, no resend by mqtt.js. */
function mqttSlot(c: LoadConfig, user: LoadConfig['mqttUsers'][number]): Sender {
  let client: MqttClient | undefined;
  let rec: ConnRecord | undefined;
  let inflight = new Set<number>();
  let done = false;
  const topic = `plant/soak/${user.username}/telemetry`;
  const connect = () => {
    if (done) return;
    // mqtt.js's own TCP connector takes no local address: give it the socket (as demo/scenarios do).
    const cl = new MqttClient(
      () => net.connect({ host: c.host, port: c.ports.mqtt, localAddress: user.address }),
      {
        clientId: user.username,
        username: user.username,
        password: user.password,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      },
    );
    cl.on('error', () => undefined);
    cl.once('connect', () => {
      client = cl;
      rec = newRecord('mqtt');
      inflight = new Set();
    });
    cl.once('close', () => {
      if (client === cl) {
        // What the broker never acknowledged may or may not have been made durable: at most once.
        rec!.unacked = [...inflight].sort((a, b) => a - b);
        endRecord(rec!);
        client = undefined;
      }
      cl.end(true);
      setTimeout(connect, 200);
    });
  };
  connect();
  return {
    push(n) {
      if (!client || !rec || !client.connected) return 0;
      const room = Math.max(0, Math.min(n, MQTT_WINDOW - inflight.size));
      const r = rec;
      const set = inflight;
      for (let k = 0; k < room; k += 1) {
        const i = r.sent;
        r.sent += 1;
        set.add(i);
        const t = Date.now() / 60_000 + i / 1000;
        const payload = JSON.stringify({
          seq: `M${r.conn}.${i}`,
          temperature: Math.round((40 + 5 * Math.sin(t)) * 10) / 10,
          pressure: Math.round((2 + Math.sin(t / 3)) * 100) / 100,
        });
        client.publish(topic, payload, { qos: 1 }, (error) => {
          if (!error) set.delete(i);
        });
      }
      return room;
    },
    async stop() {
      done = true;
      const cl = client;
      if (!cl || !rec) return;
      // Let the acknowledgements of what is in flight arrive.
      const deadline = Date.now() + 10_000;
      while (inflight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      rec.unacked = [...inflight].sort((a, b) => a - b);
      rec.ended = 'end';
      client = undefined;
      await cl.endAsync();
    },
  };
}

/** A Modbus master through the proxy, bound to its own local port: the port names the connection. */
let modbusPortCursor = 21_000 + Math.floor(Math.random() * 5000);
function modbusSlot(c: LoadConfig): Sender {
  let socket: net.Socket | undefined;
  let rec: ConnRecord | undefined;
  let writable = false;
  let done = false;
  let outstanding = new Map<number, number>();
  let buffered: Buffer = Buffer.alloc(0);
  const connect = () => {
    if (done) return;
    modbusPortCursor = modbusPortCursor >= 32_000 ? 21_000 : modbusPortCursor + 1;
    const localPort = modbusPortCursor;
    const s = net.connect({ port: c.ports.modbus, host: c.host, localAddress: c.modbusAddress, localPort });
    s.setNoDelay(true);
    s.once('connect', () => {
      socket = s;
      rec = newRecord('modbus', localPort);
      rec.answered = 0;
      outstanding = new Map();
      buffered = Buffer.alloc(0);
      writable = true;
    });
    s.on('drain', () => (writable = true));
    s.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      // MBAP: the length field (bytes 4-5) counts the unit id and the PDU (Modbus/TCP §3.1.3).
      while (buffered.length >= 7) {
        const size = 6 + buffered.readUInt16BE(4);
        if (buffered.length < size) break;
        if (outstanding.delete(buffered.readUInt16BE(0)) && rec) rec.answered! += 1;
        buffered = buffered.subarray(size);
      }
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      if (socket === s) {
        endRecord(rec!);
        socket = undefined;
        writable = false;
      }
      setTimeout(connect, 200);
    });
  };
  connect();
  return {
    push(n) {
      if (!socket || !writable || !rec) return 0;
      const now = Date.now();
      for (const [tid, at] of outstanding) if (now - at > MODBUS_TIMEOUT_MS) outstanding.delete(tid);
      const room = Math.max(0, Math.min(n, MODBUS_WINDOW - outstanding.size));
      if (room === 0) return 0;
      const frames = Buffer.alloc(12 * room);
      for (let k = 0; k < room; k += 1) {
        const { tid, address, quantity } = modbusRead(rec.sent);
        rec.sent += 1;
        outstanding.set(tid, now);
        const o = 12 * k;
        frames.writeUInt16BE(tid, o);
        frames.writeUInt16BE(0, o + 2);
        frames.writeUInt16BE(6, o + 4);
        frames[o + 6] = c.modbusUnitId;
        frames[o + 7] = 3;
        frames.writeUInt16BE(address, o + 8);
        frames.writeUInt16BE(quantity, o + 10);
      }
      writable = socket.write(frames);
      return room;
    },
    async stop() {
      done = true;
      const deadline = Date.now() + 5000;
      while (outstanding.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (socket) {
        const s = socket;
        rec!.ended = 'end';
        socket = undefined;
        await new Promise<void>((resolve) => s.end(resolve));
        s.destroy();
      }
    },
  };
}

async function run(c: LoadConfig): Promise<void> {
  const senders: Record<Stream, Sender[]> = {
    tcp: Array.from({ length: c.tcpConnections }, () => tcpSlot(c)),
    udp: [udpSender(c)],
    mqtt: c.mqttUsers.map((u) => mqttSlot(c, u)),
    modbus: Array.from({ length: c.modbusConnections }, () => modbusSlot(c)),
  };
  // Messages per second per stream (a Modbus read is two events).
  const perSec: Record<Stream, number> = {
    tcp: c.rate * MIX.tcp,
    udp: c.rate * MIX.udp,
    mqtt: c.rate * MIX.mqtt,
    modbus: (c.rate * MIX.modbus) / 2,
  };
  const tokens: Record<Stream, number> = { tcp: 0, udp: 0, mqtt: 0, modbus: 0 };
  const cursor: Record<Stream, number> = { tcp: 0, udp: 0, mqtt: 0, modbus: 0 };
  let last = performance.now();
  const tick = () => {
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    for (const stream of STREAMS) {
      tokens[stream] += perSec[stream] * dt;
      // At most one second of backlog: the rest is behind, never a burst later.
      if (tokens[stream] > perSec[stream]) {
        behind[stream] += Math.floor(tokens[stream] - perSec[stream]);
        tokens[stream] = perSec[stream];
      }
      let want = Math.floor(tokens[stream]);
      const list = senders[stream];
      // Round robin over the connections, each taking at most its share: a full or closed one
      // passes its turn, and its share is not piled onto another (one MQTT client back first after
      // a restart would otherwise publish the whole stream from one address: a publish flood).
      const share = Math.max(1, Math.ceil(want / list.length));
      for (let tries = 0; want > 0 && tries < list.length; tries += 1) {
        const s = list[cursor[stream]++ % list.length]!;
        const went = s.push(Math.min(share, want));
        want -= went;
        tokens[stream] -= went;
        sentTotal[stream] += went;
      }
    }
  };
  const timer = setInterval(tick, TICK_MS);
  const statsTimer = setInterval(
    () => send({ type: 'stats', sent: { ...sentTotal }, behind: { ...behind } }),
    1000,
  );
  send({ type: 'ready' });
  await stopRequested;
  stopping = true;
  clearInterval(timer);
  clearInterval(statsTimer);
  await Promise.all(STREAMS.flatMap((s) => senders[s].map((x) => x.stop())));
  for (const r of records) if (r.ended === 'open') r.ended = 'end';
  send({ type: 'final', conns: records, behind: { ...behind } });
}

let requestStop = () => undefined as void;
const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
process.on('message', (m: ToLoad) => {
  if (m.type === 'start') void run(m.config);
  else if (m.type === 'phase') gatewayDown = m.gatewayDown;
  else requestStop();
});
process.on('disconnect', () => process.exit(0));

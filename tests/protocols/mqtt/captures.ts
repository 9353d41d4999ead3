/**
 * Helpers for the MQTT capture tests: every TCP direction of a capture decoded packet by packet
 * (server directions at the level of their client's CONNECT), and a flattening of a decoded
 * packet into Suricata's eve `mqtt.*` field names, to compare with suricata-verify's test.yaml.
 */
import { readFileSync } from 'node:fs';
import { decodeMqttStream, type MqttPacket, type StreamDecodeItem } from '../../../protocols/mqtt/index.ts';
import {
  decodePacket,
  readCapture,
  reassembleTcp,
  type TcpSegmentInput,
} from '../../../protocols/pcap/index.ts';

export interface MqttDirection {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  items: StreamDecodeItem[];
  trailingBytes: number;
}

export function mqttDirections(file: string): MqttDirection[] {
  const capture = readCapture(readFileSync(file));
  const tcp: TcpSegmentInput[] = [];
  for (const p of capture.packets) {
    const d = decodePacket(p.linkType, p.data);
    if (d.ok && d.packet.proto === 'tcp') tcp.push({ ...d.packet, ts: p.ts });
  }
  const streams = reassembleTcp(tcp).filter((s) => s.data.length > 0);
  const out: MqttDirection[] = [];
  const levels = new Map<string, number>();
  const key = (a: string, ap: number, b: string, bp: number) => `${a}:${ap}>${b}:${bp}`;
  // Client directions first (they carry a CONNECT), then servers at the negotiated level.
  const ordered = [...streams].sort((a, b) => Number(b.data[0] === 0x10) - Number(a.data[0] === 0x10));
  for (const s of ordered) {
    const level = levels.get(key(s.dst, s.dstPort, s.src, s.srcPort));
    const decoded = decodeMqttStream(s.data, level === undefined ? {} : { protocolLevel: level });
    levels.set(key(s.src, s.srcPort, s.dst, s.dstPort), decoded.protocolLevel);
    const { items, trailingBytes } = decoded;
    out.push({ src: s.src, srcPort: s.srcPort, dst: s.dst, dstPort: s.dstPort, items, trailingBytes });
  }
  return out;
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

function props(p: Record<string, unknown> | undefined, into: Record<string, unknown>, prefix: string) {
  for (const [k, v] of Object.entries(p ?? {})) {
    if (k === 'user_property') {
      for (const [uk, uv] of v as Array<[string, string]>) into[`${prefix}.properties.${uk}`] = uv;
    } else into[`${prefix}.properties.${k}`] = v instanceof Uint8Array ? text(v) : v;
  }
}

/** The packet as Suricata's eve log names its fields (`connect.client_id`, `publish.topic`...). */
export function suricataView(p: MqttPacket): Record<string, unknown> {
  const t = p.type;
  const v: Record<string, unknown> = { [`${t}.qos`]: p.qos, [`${t}.retain`]: p.retain, [`${t}.dup`]: p.dup };
  if ('messageId' in p && p.messageId !== undefined) v[`${t}.message_id`] = p.messageId;
  if ('properties' in p) props(p.properties, v, t);
  if ('reasonCode' in p && p.reasonCode !== undefined) v[`${t}.reason_code`] = p.reasonCode;
  switch (p.type) {
    case 'connect':
      Object.assign(v, {
        'connect.protocol_string': p.protocolName,
        'connect.protocol_version': p.protocolLevel,
        'connect.flags.username': p.flags.username,
        'connect.flags.password': p.flags.password,
        'connect.flags.will': p.flags.will,
        'connect.flags.will_retain': p.flags.willRetain,
        'connect.flags.clean_session': p.flags.cleanSession,
        'connect.client_id': p.clientId,
      });
      if (p.username !== undefined) v['connect.username'] = p.username;
      if (p.password !== undefined) v['connect.password'] = text(p.password);
      if (p.will) {
        v['connect.will.topic'] = p.will.topic;
        v['connect.will.message'] = text(p.will.payload);
        props(p.will.properties, v, 'connect.will');
      }
      break;
    case 'connack':
      v['connack.session_present'] = p.sessionPresent;
      v['connack.return_code'] = p.returnCode;
      break;
    case 'publish':
      v['publish.topic'] = p.topic;
      v['publish.message'] = text(p.payload);
      break;
    case 'subscribe':
      v['subscribe.topics'] = p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos }));
      break;
    case 'suback':
      v['suback.qos_granted'] = p.granted;
      break;
    case 'unsubscribe':
      v['unsubscribe.topics'] = p.topics;
      break;
    case 'unsuback':
      if (p.reasonCodes) v['unsuback.reason_codes'] = p.reasonCodes;
      break;
    default:
  }
  return v;
}

const RESPONSES: Record<string, string[]> = {
  connect: ['connack'],
  publish: ['puback', 'pubrec', 'pubrel', 'pubcomp'],
  subscribe: ['suback'],
  unsubscribe: ['unsuback'],
  pingreq: ['pingresp'],
};

/**
 * Suricata's MQTT transactions: a request and its answers in one record (CONNECT + CONNACK,
 * PUBLISH + PUBACK/PUBREC/PUBREL/PUBCOMP by packet id, SUBSCRIBE + SUBACK, ...).
 */
export function suricataTransactions(directions: MqttDirection[]): Array<Record<string, unknown>> {
  const all = directions.flatMap((d, di) =>
    d.items.flatMap((i) => (i.result.ok ? [{ di, p: i.result.packet, used: false }] : [])),
  );
  const out: Array<Record<string, unknown>> = [];
  for (const req of all) {
    if (req.used) continue;
    req.used = true;
    const view = suricataView(req.p);
    const answers = RESPONSES[req.p.type] ?? [];
    const id = 'messageId' in req.p ? req.p.messageId : undefined;
    for (const type of answers) {
      const hit = all.find(
        (a) =>
          !a.used &&
          a.p.type === type &&
          (type === 'connack' || type === 'pingresp'
            ? a.di !== req.di
            : 'messageId' in a.p && a.p.messageId === id),
      );
      if (hit) {
        hit.used = true;
        Object.assign(view, suricataView(hit.p));
      }
    }
    out.push(view);
  }
  return out;
}

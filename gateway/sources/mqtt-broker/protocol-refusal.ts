/**
 * MQTT 5 clients and the embedded broker: aedes 1.x speaks MQTT 3.1 and 3.1.1 only and answers an
 * MQTT 5 CONNECT with CONNACK return code 1, "unacceptable protocol version" ([MQTT-3.1.2-2]).
 * That refusal is an `mqtt.protocol_refused` event naming the client id, its address and the
 * version it asked for; it is counted (`siem_gateway_errors_total{code="mqtt_protocol_refused"}`)
 * and noted in `/api/status` (the source's `notes`), so a device that silently fails to connect
 * after a firmware update that switched it to MQTT 5 is visible on the dashboard.
 */
import type { Aedes, Client } from 'aedes';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { mqttEvent, PROTOCOL_VERSIONS } from '../../../protocols/mqtt/to-event.ts';
import type { SourceContext } from '../../pipeline/types.ts';
import type { ConnInfo } from './events.ts';

/** CONNACK return code 1 (MQTT 3.1.1 §3.2.2.3): unacceptable protocol version. */
const UNACCEPTABLE_PROTOCOL_VERSION = 1;

export interface ProtocolRefusalDeps {
  name: string;
  ctx: SourceContext;
  infoOf(client: Client | null | undefined): ConnInfo | undefined;
  emitLater(events: PendingEvent[]): void;
}

export interface ProtocolRefusals {
  /** Refusals since start. */
  readonly count: number;
  /** What /api/status shows for the source: empty until a client is refused. */
  notes(): string[];
}

/** Reports every CONNACK 1 the broker sends; the sensor's own connackSent handler skips code 1. */
export function installProtocolRefusal(broker: Aedes, deps: ProtocolRefusalDeps): ProtocolRefusals {
  const { name, ctx } = deps;
  let count = 0;
  let last: { clientId: string; ip: string; port: number; version: string; at: Date } | undefined;

  broker.on('connackSent', (packet, client) => {
    if ((packet.returnCode ?? 0) !== UNACCEPTABLE_PROTOCOL_VERSION) return;
    const info = deps.infoOf(client);
    if (!info) return;
    const level = info.protocolLevel;
    const version = level === undefined ? 'unknown' : (PROTOCOL_VERSIONS[level] ?? `level ${level}`);
    const clientId = info.clientId ?? '';
    const at = ctx.now();
    count++;
    last = { clientId, ip: info.ip, port: info.port, version, at };
    info.closeReason ??= 'protocol_refused';
    ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'mqtt_protocol_refused' });
    deps.emitLater([
      mqttEvent(
        info,
        {
          action: 'mqtt.protocol_refused',
          kind: 'security',
          severity: 4,
          message: `MQTT ${version} client ${clientId || '(empty client id)'} from ${info.ip}:${info.port} refused: the embedded broker speaks MQTT 3.1 and 3.1.1 only (CONNACK 1, unacceptable protocol version)`,
          fields: {
            return_code: UNACCEPTABLE_PROTOCOL_VERSION,
            return_code_name: 'unacceptable_protocol_version',
            requested_protocol_level: level,
            supported_protocol_versions: ['3.1', '3.1.1'],
          },
          tags: ['protocol_refused'],
        },
        at,
        name,
      ),
    ]);
  });

  return {
    get count() {
      return count;
    },
    notes() {
      if (!last) return [];
      return [
        `${count} client${count === 1 ? '' : 's'} refused for an unsupported MQTT version (this broker speaks 3.1 and 3.1.1; MQTT 5 clients must connect with protocol version 4); last: ${last.clientId || '(empty client id)'} from ${last.ip}:${last.port} asking for MQTT ${last.version} at ${last.at.toISOString()}`,
      ];
    },
  };
}

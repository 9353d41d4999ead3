/**
 * The sensor inside the embedded broker, connection side: aedes' connect, authenticate, CONNACK,
 * disconnect and error hooks turned into `mqtt.*` events. Every refusal, takeover, malformed or
 * oversized packet, keepalive timeout and rate crossing becomes an event; authentication is
 * enforced here (auth.ts). Publish and subscribe hooks are in publish-hooks.ts.
 */
import type { Aedes, AuthenticateError, Client } from 'aedes';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { decodeMqttStream } from '../../../protocols/mqtt/decode.ts';
import type { MqttError } from '../../../protocols/mqtt/types.ts';
import { CONNACK_RETURN_CODES } from '../../../protocols/mqtt/types.ts';
import { type Block, createBlocker } from './blocker.ts';
import {
  blockedSpec,
  type MqttEventSpec,
  mqttEvent,
  rateExceededSpec,
} from '../../../protocols/mqtt/to-event.ts';
import type { ConnInfo } from './events.ts';
import { installPublishHooks } from './publish-hooks.ts';
import { createTurnBatcher, oncePerTurn } from './turn-batch.ts';
import type { SensorDeps } from './types.ts';

type Internal = Client & { will?: unknown; _disconnected?: boolean };

const hex = (b: Uint8Array, n = 64) => Buffer.from(b.subarray(0, n)).toString('hex');

export function createSensor(broker: Aedes, deps: SensorDeps) {
  const { name, config, ctx, infoOf, rates } = deps;
  const clients = (broker as unknown as { clients: Record<string, Client> }).clients;
  const blocker = createBlocker({
    maxFailures: config.rates.max_auth_failures,
    windowSecs: config.rates.window_secs,
    blockSecs: config.rates.block_secs,
    maxBlockSecs: config.rates.max_block_secs,
    resetSecs: config.rates.block_reset_secs,
  });

  // What the hooks emit in one turn (the publishes of one socket read) goes to the pipeline as one batch.
  const batched = createTurnBatcher((events, ack) => ctx.emit(events, ack ? { ack } : undefined));
  // Counted per action here and added to the counter once per turn of the event loop, not per
  // publish (issue 18's durable path).
  const counts = new Map<string, number>();
  const addCounts = oncePerTurn(() => {
    for (const [action, n] of counts) ctx.metrics.sensorEvents.inc({ source: name, action }, n);
    counts.clear();
  });
  const countAction = (action: string) => {
    counts.set(action, (counts.get(action) ?? 0) + 1);
    addCounts();
  };
  /** `ack`: the client waits for these to be durable (QoS 1/2), so they are written at once. */
  const emit = (events: PendingEvent[], ack = false): Promise<void> => {
    for (const e of events) countAction(e.action);
    return batched(events, ack);
  };
  const emitLater = (events: PendingEvent[]) => {
    emit(events).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
      ctx.logger.error({ err: error.message }, 'queue write failed');
    });
  };
  const event = (info: ConnInfo, spec: MqttEventSpec) => mqttEvent(info, spec, ctx.now(), name);

  /**
   * Counts one occurrence per address, client id and user name; a first crossing is an event. A
   * block that this failure started is reported as the address's crossing, with the block.
   */
  const count = (
    info: ConnInfo,
    counter: 'connections' | 'connects' | 'auth_failures',
    threshold: number,
    block?: Block,
  ) => {
    const now = ctx.now();
    const keys: Array<[string, string | undefined]> = [
      ['src_ip', info.ip],
      ['client_id', counter === 'connections' ? undefined : info.clientId || undefined],
      ['username', counter === 'connections' ? undefined : info.username],
    ];
    for (const [keyType, key] of keys) {
      if (key === undefined) continue;
      const c = rates.hit(counter, keyType, key, threshold, now, info.clientId);
      if (block && keyType === 'src_ip') {
        const crossing = c ?? {
          counter,
          keyType,
          key,
          count: block.failures,
          threshold,
          windowSecs: config.rates.window_secs,
        };
        emitLater([event(info, blockedSpec(crossing, block))]);
      } else if (c) emitLater([event(info, rateExceededSpec(c))]);
    }
  };

  broker.preConnect = (client, packet, done) => {
    const info = infoOf(client);
    if (info) {
      info.clientId = packet.clientId;
      info.username = packet.username;
      info.protocolLevel = packet.protocolVersion;
      info.keepalive = packet.keepalive;
      info.cleanSession = packet.clean;
      if (packet.will) {
        const p = packet.will.payload as Buffer | string | undefined;
        info.will = {
          topic: packet.will.topic,
          qos: packet.will.qos ?? 0,
          retain: packet.will.retain ?? false,
          payload_bytes: p ? Buffer.byteLength(p) : 0,
        };
      }
      count(info, 'connects', config.rates.max_connects);
    }
    done(null, true);
  };

  broker.authenticate = (client, username, password, done) => {
    const info = infoOf(client);
    if (!info) return done(null, false);
    const refuse = (returnCode: 4 | 5, reason: string) => {
      info.authFailure = reason;
      // A CONNECT refused for being blocked is counted for detection, not towards the next block.
      const block = reason === 'blocked' ? undefined : blocker.failure(info.ip, ctx.now());
      count(info, 'auth_failures', config.rates.max_auth_failures, block);
      const error = new Error(reason) as AuthenticateError;
      error.returnCode = returnCode;
      done(error, null);
    };
    if (blocker.blockedUntil(info.ip, ctx.now())) return refuse(5, 'blocked');
    // A response playbook's block (gateway/playbooks): refused before any password is checked.
    if (ctx.response?.mqttRefused(name, info.clientId || undefined, info.ip))
      return refuse(5, 'blocked_by_playbook');
    deps.auth.authenticate(username, password, info.certCn).then(
      (result) => {
        if (!result.ok) return refuse(result.returnCode, result.reason);
        info.identity = result.identity;
        // [MQTT-3.1.4-2]: the server disconnects an existing client with the same id.
        const previous = clients[client.id];
        if (previous && previous !== client && !previous.closed) {
          const before = infoOf(previous);
          if (before) before.closeReason = 'taken_over';
          emitLater([
            event(info, {
              action: 'mqtt.client_takeover',
              kind: 'security',
              severity: 4,
              message: `client id ${client.id} taken over from ${before?.ip ?? '?'}:${before?.port ?? '?'} by ${info.ip}:${info.port}`,
              fields: {
                previous_src_ip: before?.ip,
                previous_src_port: before?.port,
                previous_username: before?.username,
                same_source_ip: before?.ip === info.ip,
                same_username: before?.username === info.username,
              },
              tags: ['takeover'],
            }),
          ]);
        }
        done(null, true);
      },
      (error: Error) => {
        ctx.metrics.errors.inc({ component: name, stage: 'processing', code: 'auth_error' });
        ctx.logger.warn({ err: error.message }, 'authentication failed with an error');
        const e = new Error('server unavailable') as AuthenticateError;
        e.returnCode = 3;
        info.authFailure = 'internal_error';
        done(e, null);
      },
    );
  };

  broker.on('connackSent', (packet, client) => {
    const info = infoOf(client);
    if (!info) return;
    const code = packet.returnCode ?? 0;
    if (code === 0) {
      info.connectedAt = ctx.now();
      ctx.metrics.mqttClients.set({ source: name }, broker.connectedClients);
      emitLater([
        event(info, {
          action: 'mqtt.connect',
          kind: 'security',
          severity: 6,
          message: `${info.clientId} connected${info.username ? ` as ${info.username}` : ''} from ${info.ip}`,
          fields: {
            auth_method: info.identity?.method,
            session_present: packet.sessionPresent ?? false,
            clean_session: info.cleanSession,
            keepalive_secs: info.keepalive,
            tls_client_cn: info.certCn,
            will_topic: info.will?.topic,
            will_qos: info.will?.qos,
            will_retain: info.will?.retain,
          },
        }),
      ]);
      return;
    }
    if (code === 1) return; // unacceptable protocol version (MQTT 5): protocol-refusal.ts reports it
    const reason = CONNACK_RETURN_CODES[code] ?? `return_code_${code}`;
    const auth = code === 4 || code === 5;
    emitLater([
      event(info, {
        action: auth ? 'mqtt.auth_failure' : 'mqtt.connect_refused',
        kind: 'security',
        severity: auth ? 4 : 5,
        message: `CONNACK ${code} (${reason}) to ${info.clientId || '(empty client id)'}${info.username ? ` user ${info.username}` : ''} from ${info.ip}${info.authFailure ? `: ${info.authFailure}` : ''}`,
        fields: {
          return_code: code,
          return_code_name: reason,
          reason: info.authFailure,
          tls_client_cn: info.certCn,
        },
        tags: auth ? ['authentication'] : [],
      }),
    ]);
  });

  broker.on('keepaliveTimeout', (client) => {
    const info = infoOf(client);
    if (info) info.closeReason ??= 'keepalive_timeout';
  });

  broker.on('clientDisconnect', (client) => {
    const info = infoOf(client);
    ctx.metrics.mqttClients.set({ source: name }, broker.connectedClients);
    if (!info) return;
    const internal = client as Internal;
    const reason =
      info.closeReason ??
      (internal._disconnected
        ? 'client_disconnect'
        : deps.isStopping()
          ? 'server_shutdown'
          : 'connection_lost');
    const now = ctx.now();
    emitLater([
      event(info, {
        action: 'mqtt.disconnect',
        kind: 'security',
        severity: reason === 'client_disconnect' || reason === 'server_shutdown' ? 6 : 5,
        message: `${info.clientId} disconnected (${reason.replaceAll('_', ' ')})`,
        fields: {
          reason,
          duration_secs: info.connectedAt
            ? Math.round((now.getTime() - info.connectedAt.getTime()) / 1000)
            : undefined,
          will_published: reason !== 'client_disconnect' && info.will !== undefined ? true : undefined,
        },
        tags: reason === 'keepalive_timeout' ? ['keepalive_timeout'] : [],
      }),
    ]);
  });

  const malformed = (info: ConnInfo, error: MqttError | { code: string; message: string }) => {
    info.closeReason ??= 'malformed_packet';
    ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: `mqtt_${error.code}` });
    emitLater([
      event(info, {
        action: 'mqtt.malformed_packet',
        kind: 'security',
        severity: 4,
        message: `malformed MQTT packet from ${info.ip}: ${error.message}`,
        fields: {
          code: error.code,
          error: error.message,
          packet_type: 'type' in error ? error.type : undefined,
          preview_hex: info.lastChunk ? hex(info.lastChunk) : undefined,
        },
        tags: ['malformed'],
      }),
    ]);
  };

  /** Our own reading of the last chunk explains what the parser refused, when it starts a packet. */
  const explain = (info: ConnInfo, parserMessage: string) => {
    if (info.lastChunk && info.chunkAtBoundary) {
      const { items } = decodeMqttStream(info.lastChunk, { protocolLevel: info.protocolLevel ?? 4 });
      const bad = items.find((i) => !i.result.ok);
      if (bad && !bad.result.ok)
        return { ...bad.result.error, message: `${bad.result.error.message} (parser: ${parserMessage})` };
    }
    return { code: 'parser', message: parserMessage };
  };

  const onError = (client: Client, error: Error) => {
    const info = infoOf(client);
    if (!info || info.oversized) return;
    if (info.malformed !== undefined) {
      malformed(info, explain(info, info.malformed));
      info.malformed = undefined;
      return;
    }
    if (error.message === 'Invalid protocol') {
      // [MQTT-3.1.0-1] a first packet that is not CONNECT, [MQTT-3.1.0-2] a second CONNECT.
      return malformed(info, {
        code: 'unexpected_packet',
        message: 'CONNECT not first or sent twice [MQTT-3.1.0-1], [MQTT-3.1.0-2]',
      });
    }
    if (/keep alive timeout/.test(error.message)) return;
    const code = /connect did not arrive/.test(error.message) ? 'connect_timeout' : 'client_error';
    info.closeReason ??= code === 'connect_timeout' ? 'connect_timeout' : 'protocol_error';
    ctx.metrics.errors.inc({ component: name, stage: 'receiving', code });
    ctx.logger.debug({ err: error.message, ip: info.ip }, 'mqtt client error');
  };
  broker.on('clientError', onError);
  broker.on('connectionError', onError);

  installPublishHooks(broker, { ...deps, emit, emitLater, event });

  // A new block also ends the connections it names (a client that got in before the alert).
  const onResponseChange = () => {
    for (const client of Object.values(clients)) {
      const info = infoOf(client);
      if (!info || client.closed || !ctx.response?.mqttRefused(name, client.id, info.ip)) continue;
      info.closeReason = 'blocked_by_playbook';
      client.close();
    }
  };
  ctx.response?.on('changed', onResponseChange);

  return {
    detach: () => ctx.response?.off('changed', onResponseChange),
    countConnection: (info: ConnInfo) => count(info, 'connections', config.rates.max_connections),
    guardError: (info: ConnInfo, error: MqttError) => {
      if (error.code !== 'too_large') return malformed(info, error);
      info.oversized = true;
      info.closeReason = 'oversized_packet';
      ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'mqtt_too_large' });
      emitLater([
        event(info, {
          action: 'mqtt.oversized_packet',
          kind: 'security',
          severity: 4,
          message: `${error.type ?? 'packet'} of ${error.declaredBytes ?? '?'} bytes from ${info.ip} refused (limit ${config.max_packet_bytes})`,
          fields: {
            packet_type: error.type,
            declared_bytes: error.declaredBytes,
            limit_bytes: config.max_packet_bytes,
          },
          tags: ['oversized'],
        }),
      ]);
    },
    emitLater,
  };
}

export type Sensor = ReturnType<typeof createSensor>;

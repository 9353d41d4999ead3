/**
 * The passive `capture` source: dumpcap on a mirror port (dumpcap.ts) → the chunked pcapng reader
 * (protocols/pcap/stream.ts) → the capture decoder shared with `siem-gateway replay`
 * (decoder.ts), so live traffic and a saved capture give the same events. `start()` resolves once
 * dumpcap has written its section and interface headers (it is capturing), and rejects with
 * dumpcap's own message when it cannot capture (no permission, no such interface). If dumpcap
 * later exits on its own, a `gateway.capture_stopped` health event says so and it is restarted
 * after `restart_backoff_secs`. Stopping the source stops dumpcap.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createPcapngStreamReader } from '../../../protocols/pcap/index.ts';
import type { Source, SourceContext } from '../../pipeline/types.ts';
import { captureFilter, type CaptureSourceConfig } from './config.ts';
import { createCaptureDecoder } from './decoder.ts';
import { type Dumpcap, startDumpcap } from './dumpcap.ts';

export { captureSourceSchema, type CaptureSourceConfig } from './config.ts';

const START_TIMEOUT_MS = 10_000;

export function createCaptureSource(name: string, config: CaptureSourceConfig, ctx: SourceContext): Source {
  const filter = captureFilter(config);
  let dumpcap: Dumpcap | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let frame = 0;

  const emit = (events: PendingEvent[]) => {
    if (events.length === 0) return;
    for (const e of events) {
      e.time_source ??= 'gateway'; // packet times come from the gateway's kernel
      // Bytes a codec refused are events and, like the broker's and the CoAP server's, counted errors.
      if (e.tags?.includes('malformed'))
        ctx.metrics.errors.inc({
          component: name,
          stage: 'receiving',
          code: `${e.source}_${String(e.fields?.code)}`,
        });
    }
    ctx.metrics.received.inc({ source: name }, events.length);
    ctx.emit(events).catch((error: Error) => {
      ctx.metrics.dropped.inc({ source: name, reason: 'queue_write_failed' }, events.length);
      ctx.logger.error({ err: error.message }, 'queue write failed');
    });
  };

  const health = (action: string, message: string, fields: Record<string, unknown>): PendingEvent => {
    const now = ctx.now().toISOString();
    return {
      ts: now,
      received: now,
      time_source: 'gateway',
      source: 'gateway',
      kind: 'health',
      action,
      severity: 3,
      message,
      fields: { capture: name, interface: config.interface, ...fields },
      tags: [],
    };
  };

  /** Runs one dumpcap; resolves when it is capturing, rejects if it ends before that. */
  const run = () =>
    new Promise<void>((resolve, reject) => {
      const reader = createPcapngStreamReader();
      const decoder = createCaptureDecoder({
        modbusPorts: config.modbus_ports,
        mqttPorts: config.mqtt_ports,
        detectMqtt: config.detect_mqtt,
        maxMqttPacketBytes: config.max_mqtt_packet_bytes,
        coapPorts: config.coap_ports,
        coapAmplificationFactor: config.coap_amplification_factor,
        syslogUdpPorts: config.syslog_udp_ports,
        syslogTcpPorts: config.syslog_tcp_ports,
        maxSyslogBytes: config.max_syslog_bytes,
        dnp3Ports: config.dnp3_ports,
        s7commPorts: config.s7comm_ports,
        enipPorts: config.enip_ports,
        bacnetPorts: config.bacnet_ports,
        opcuaPorts: config.opcua_ports,
        extraFields: { capture: name },
      });
      let capturing = false;
      const timer = setTimeout(() => {
        if (!capturing) void dumpcap?.stop();
      }, START_TIMEOUT_MS);
      dumpcap = startDumpcap(
        {
          path: config.dumpcap_path,
          iface: config.interface,
          filter,
          snapLength: config.snap_length_bytes,
          bufferMib: config.buffer_size_mib,
        },
        {
          data(chunk) {
            const out: PendingEvent[] = [];
            for (const item of reader.push(chunk)) {
              if (item.type === 'error') {
                ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: item.error.code });
                ctx.logger.warn({ err: item.error.message }, 'unreadable capture stream');
                continue;
              }
              frame++;
              const p = item.packet;
              for (const e of decoder.packet(p.linkType, p.data, { frame, ts: p.ts })) out.push(e);
            }
            // The section and interface headers come first: once read, dumpcap is capturing.
            if (!capturing && reader.offset() > 0) {
              capturing = true;
              clearTimeout(timer);
              resolve();
            }
            emit(out);
          },
          exit(code, signal, stderr) {
            clearTimeout(timer);
            emit(decoder.flush());
            const why = stderr
              .split('\n')
              .filter((l) => !/^(Capturing on|File:|Packets)/.test(l))
              .join(' ');
            if (!capturing) {
              reject(
                new Error(
                  `dumpcap could not capture on ${config.interface}: ${why || `exit ${code ?? signal}`}`,
                ),
              );
              return;
            }
            if (stopping) return;
            ctx.metrics.errors.inc({ component: name, stage: 'receiving', code: 'dumpcap_exit' });
            emit([
              health(
                'gateway.capture_stopped',
                `capture on ${config.interface} stopped: ${why || `exit ${code}`}`,
                {
                  exit_code: code,
                  signal,
                  error: why,
                },
              ),
            ]);
            scheduleRestart();
          },
        },
      );
    });

  /** Restarts dumpcap after the backoff, and keeps trying (one health event per failed try). */
  const scheduleRestart = () => {
    restartTimer = setTimeout(() => {
      if (stopping) return;
      run().catch((error: Error) => {
        ctx.logger.error({ err: error.message }, 'capture restart failed');
        emit([health('gateway.capture_failed', error.message, { error: error.message })]);
        if (!stopping) scheduleRestart();
      });
    }, config.restart_backoff_secs * 1000);
  };

  return {
    name,
    type: 'capture',
    async start() {
      stopping = false;
      await run();
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      await dumpcap?.stop();
    },
    addresses: () => [],
  };
}

/**
 * The `siem-gateway replay FILE... [--config FILE] [--rules DIR] [--modbus-port N] [--mqtt-port N]
 * [--coap-port N]` command line:
 * parses its own options (so gateway/cli.ts only dispatches), prints events and alerts as JSON
 * lines on stdout and a summary on stderr. Exit status: 0 done, 1 an unreadable file, 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { loadDetection } from '../detection/index.ts';
import { createReplayDetector } from './detector.ts';
import { ReplayFileError, replayFiles } from './index.ts';

export const REPLAY_HELP = `Usage: siem-gateway replay FILE... [options]

Reads pcap, pcapng or text logs (one syslog message per line) and prints every event as one
JSON object per line, using the files' own timestamps as the clock. Forwards nothing.

Options:
  -c, --config FILE      take the gateway id (and nothing else) from this config
      --rules DIR        Sigma rules (repeatable): alerts are printed as {"type":"alert",...}
      --modbus-port N    TCP port of Modbus servers (repeatable; default 502)
      --syslog-port N    UDP port of syslog (repeatable; default 514)
      --mqtt-port N      TCP port of MQTT brokers (repeatable; default 1883; a stream that
                         opens with an MQTT CONNECT is followed on any port)
      --coap-port N      UDP port of CoAP (repeatable; default 5683)
  -h, --help             show this text
`;

export async function replayCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        rules: { type: 'string', multiple: true },
        'modbus-port': { type: 'string', multiple: true },
        'syslog-port': { type: 'string', multiple: true },
        'mqtt-port': { type: 'string', multiple: true },
        'coap-port': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`siem-gateway replay: ${(error as Error).message}\n\n${REPLAY_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`siem-gateway replay: no FILE given\n\n${REPLAY_HELP}`);
    return 2;
  }
  const ports = (list: string[] | undefined, flag: string): number[] | undefined | null => {
    if (!list) return undefined;
    const out = list.map(Number);
    if (out.some((p) => !Number.isInteger(p) || p < 1 || p > 65_535)) {
      process.stderr.write(`siem-gateway replay: --${flag} expects a port number (1-65535)\n`);
      return null;
    }
    return out;
  };
  const modbusPorts = ports(values['modbus-port'], 'modbus-port');
  const syslogUdpPorts = ports(values['syslog-port'], 'syslog-port');
  const mqttPorts = ports(values['mqtt-port'], 'mqtt-port');
  const coapPorts = ports(values['coap-port'], 'coap-port');
  if (modbusPorts === null || syslogUdpPorts === null || mqttPorts === null || coapPorts === null) return 2;
  let gatewayId = 'replay';
  let detectionConfig: Omit<Parameters<typeof loadDetection>[0], 'rulesDirs'> | undefined;
  if (values.config) {
    const loaded = loadGatewayConfig(values.config, env);
    if (!loaded.ok) {
      process.stderr.write(
        `siem-gateway replay: invalid config\n${loaded.errors.map((e) => `  ${e}\n`).join('')}`,
      );
      return 2;
    }
    gatewayId = loaded.config.gateway.id;
    detectionConfig = {
      fieldMap: loaded.config.detection.field_map,
      logsources: loaded.config.detection.logsources,
      alertWindowMs: loaded.config.detection.alert_window_secs * 1000,
    };
  }
  let detection: ReturnType<typeof createReplayDetector> | undefined;
  if (values.rules && values.rules.length > 0) {
    const loaded = loadDetection({ rulesDirs: values.rules, ...(detectionConfig ?? {}) });
    for (const e of loaded.errors) {
      process.stderr.write(`siem-gateway replay: rule refused: ${e.file ? `${e.file}: ` : ''}${e.message}\n`);
    }
    if (loaded.files.length === 0) {
      process.stderr.write(`siem-gateway replay: no rule files (*.yml) under ${values.rules.join(', ')}\n`);
      return 2;
    }
    detection = createReplayDetector(loaded.engine);
  }
  const chunks: string[] = [];
  const flush = () => {
    if (chunks.length > 0) process.stdout.write(chunks.join(''));
    chunks.length = 0;
  };
  try {
    const summary = await replayFiles(positionals, {
      gatewayId,
      write: (line) => {
        chunks.push(`${line}\n`);
        if (chunks.length >= 512) flush();
      },
      ...(modbusPorts ? { modbusPorts } : {}),
      ...(syslogUdpPorts ? { syslogUdpPorts } : {}),
      ...(mqttPorts ? { mqttPorts } : {}),
      ...(coapPorts ? { coapPorts } : {}),
      ...(detection && { detector: detection.detector, finish: detection.finish }),
    });
    flush();
    process.stderr.write(
      `replay: ${summary.files} file(s), ${summary.frames} frames, ${summary.lines} lines, ${summary.events} events, ${summary.alerts} alerts\n`,
    );
    return 0;
  } catch (error) {
    flush();
    if (error instanceof ReplayFileError) {
      process.stderr.write(`siem-gateway replay: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/**
 * The `siem-gateway replay FILE... [--config FILE [--learn SECS]] [--rules DIR] [--modbus-port N]
 * [--mqtt-port N] [--coap-port N]` command line: parses its own options (so gateway/cli.ts only
 * dispatches). With `--config`, the gateway's pipeline runs (pipeline.ts) and what it would forward
 * is printed, with a per-stage summary on stderr; without, every decoded event is printed (the
 * forensic import) and `--rules` alerts as `{"type":"alert",...}`. Exit status: 0 done, 1 an
 * unreadable file, 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { loadDetection } from '../detection/index.ts';
import { createReplayDetector } from './detector.ts';
import { ReplayFileError, replayFiles } from './index.ts';
import { formatStageCounts, replayPipeline } from './pipeline.ts';

export const REPLAY_HELP = `Usage: siem-gateway replay FILE... [options]

Reads pcap, pcapng, Windows .evtx event logs or text logs (one syslog message per line), using
the files' own timestamps as the clock, and prints one JSON object per line. Forwards nothing, writes nothing.

Without --config: every decoded event, and with --rules the alerts as {"type":"alert",...}.
With --config: the gateway's own pipeline (its stages, rules and baselines) runs, and what the
gateway would forward is printed: events, summaries and alerts (kind "alert", with
fields.evidence naming each triggering event's frame or line); a per-stage summary goes to stderr.

Options:
  -c, --config FILE      run this gateway config's pipeline (pipeline:, detection.rules_dirs,
                         baselines:) as the gateway would
      --learn SECS       with --config: learn baselines from the first SECS of the file, then
                         report deviations (default: the config's learning_hours per device)
      --rules DIR        Sigma rules (repeatable), besides the config's rules_dirs
      --modbus-port N    TCP port of Modbus servers (repeatable; default 502)
      --syslog-port N    UDP port of syslog (repeatable; default 514)
      --mqtt-port N      TCP port of MQTT brokers (repeatable; default 1883; a stream that
                         opens with an MQTT CONNECT is followed on any port)
      --coap-port N      UDP port of CoAP (repeatable; default 5683)
  -h, --help             show this text
`;

/** `N records (M unreadable), ` for runs that read .evtx files; nothing otherwise. */
function recordsText(s: { records?: number; badRecords?: number }): string {
  if (!s.records) return '';
  return `${s.records} records${s.badRecords ? ` (${s.badRecords} unreadable)` : ''}, `;
}

export async function replayCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        learn: { type: 'string' },
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
  const learnSecs = values.learn === undefined ? undefined : Number(values.learn);
  if (learnSecs !== undefined && (!Number.isFinite(learnSecs) || learnSecs < 0 || !values.config)) {
    process.stderr.write('siem-gateway replay: --learn expects seconds (0 or more) and needs --config\n');
    return 2;
  }
  if (values.config) {
    const loaded = loadGatewayConfig(values.config, env);
    if (!loaded.ok) {
      process.stderr.write(
        `siem-gateway replay: invalid config\n${loaded.errors.map((e) => `  ${e}\n`).join('')}`,
      );
      return 2;
    }
    if (values.rules?.length && values.rules.every((dir) => !hasRuleFiles(dir))) {
      process.stderr.write(`siem-gateway replay: no rule files (*.yml) under ${values.rules.join(', ')}\n`);
      return 2;
    }
    return runPipeline(positionals, {
      config: loaded.config,
      ...(values.rules && { rulesDirs: values.rules }),
      ...(learnSecs !== undefined && { learnSecs }),
      ...(modbusPorts ? { modbusPorts } : {}),
      ...(syslogUdpPorts ? { syslogUdpPorts } : {}),
      ...(mqttPorts ? { mqttPorts } : {}),
      ...(coapPorts ? { coapPorts } : {}),
    });
  }
  let detection: ReturnType<typeof createReplayDetector> | undefined;
  if (values.rules && values.rules.length > 0) {
    const loaded = loadDetection({ rulesDirs: values.rules });
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
      `replay: ${summary.files} file(s), ${summary.frames} frames, ${summary.lines} lines, ${recordsText(summary)}${summary.events} events, ${summary.alerts} alerts\n`,
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

function hasRuleFiles(dir: string): boolean {
  return loadDetection({ rulesDirs: [dir] }).files.length > 0;
}

async function runPipeline(
  files: string[],
  options: Omit<Parameters<typeof replayPipeline>[1], 'write'>,
): Promise<number> {
  const chunks: string[] = [];
  const flush = () => {
    if (chunks.length > 0) process.stdout.write(chunks.join(''));
    chunks.length = 0;
  };
  try {
    const s = await replayPipeline(files, {
      ...options,
      write: (line) => {
        chunks.push(`${line}\n`);
        if (chunks.length >= 512) flush();
      },
      onRuleError: (message) => process.stderr.write(`siem-gateway replay: rule refused: ${message}\n`),
    });
    flush();
    process.stderr.write(
      `replay: ${s.files} file(s), ${s.frames} frames, ${s.lines} lines, ${recordsText(s)}${s.observed} events observed, ${s.events} forwarded (${s.bytes} bytes), ${s.alerts} alerts\n${formatStageCounts(s.stages)}\n`,
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

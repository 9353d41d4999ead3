/**
 * `siem-gateway`: the gateway's command line. `run` starts the gateway until SIGINT/SIGTERM;
 * `validate` checks a config and exits; `enroll` exchanges a one-time token for the gateway's
 * credentials. Config errors are printed as one line per problem, naming the key, and exit with
 * status 2; they never show a stack trace.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ConfigOverride } from '../server-shared/config/yaml-config.ts';
import { credentialsPath, loadGatewayConfig } from './config/load.ts';
import type { GatewayConfig } from './config/schema.ts';
import { enrollGateway, readCredentials } from './enroll.ts';
import { createSystemdNotifier } from './systemd.ts';

const HELP = `Usage: siem-gateway <command> --config FILE [options]

Commands:
  run        start the gateway (until SIGINT or SIGTERM)
  validate   check the config file and exit (status 0 when valid, 2 when not)
  replay     decode pcap/pcapng/log files and print events as JSON lines (replay --help)
  enroll     exchange a one-time enrollment token for this gateway's credentials
             (needs --central URL and --token TOKEN; the key is written 0600 to
             central.credentials_file, default <data_dir>/credentials.json)
  help       show this text

Options:
  -c, --config FILE     YAML config (see gateway/config/example.yaml)
      --central URL     enroll: central's base URL, e.g. https://central.example:8443
      --token TOKEN     enroll: the one-time token (or SIEM_ENROLL_TOKEN)
      --ca FILE         enroll: CA certificate central's certificate must chain to
                        (default: central.tls.ca_file from the config, else system CAs)
      --log-level LVL   override log.level (fatal|error|warn|info|debug|trace|silent)
  -h, --help            show this text

Environment:
  SIEM_GATEWAY_ID         overrides gateway.id
  SIEM_CENTRAL_ENDPOINT   overrides central.endpoint (a comma-separated list: central.endpoints)
  SIEM_GATEWAY_DATA_DIR   overrides gateway.data_dir
  SIEM_ENROLL_TOKEN       the enrollment token, instead of --token
`;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'replay') {
    const { replayCommand } = await import('./replay/cli.ts');
    return replayCommand(argv.slice(1));
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`siem-gateway: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'help';
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (!['run', 'validate', 'enroll'].includes(command)) {
    process.stderr.write(`siem-gateway: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  if (!values.config) {
    process.stderr.write('siem-gateway: --config FILE is required\n');
    return 2;
  }
  const flags: ConfigOverride[] = values['log-level']
    ? [{ path: 'log.level', value: values['log-level'] }]
    : [];
  const loaded = loadGatewayConfig(values.config, process.env, flags);
  if (!loaded.ok) {
    process.stderr.write(`siem-gateway: invalid config\n${loaded.errors.map((e) => `  ${e}\n`).join('')}`);
    return 2;
  }
  const config = loaded.config;
  const credentialsFile = credentialsPath(config);

  if (command === 'enroll') {
    const token = values.token ?? process.env.SIEM_ENROLL_TOKEN;
    if (!values.central || !token) {
      process.stderr.write('siem-gateway: enroll needs --central URL and --token TOKEN\n');
      return 2;
    }
    const caFile = values.ca ?? config.central.tls?.ca_file;
    try {
      mkdirSync(config.gateway.data_dir, { recursive: true, mode: 0o700 });
      await enrollGateway({
        central: values.central,
        token,
        gatewayId: config.gateway.id,
        credentialsFile,
        ...tlsMaterial(config),
        ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
      });
    } catch (error) {
      process.stderr.write(`siem-gateway: ${(error as Error).message}\n`);
      return 1;
    }
    process.stdout.write(
      `enrolled as "${config.gateway.id}"; credentials in ${credentialsFile} (mode 0600)\n`,
    );
    return 0;
  }

  // First boot of a flashed image: enroll with the one-time token left in the data directory.
  const tokenFile =
    config.central.enrollment_token_file ?? path.join(config.gateway.data_dir, 'enrollment-token');
  if (command === 'run' && !existsSync(credentialsFile) && existsSync(tokenFile)) {
    try {
      await enrollAnyNode(config, readFileSync(tokenFile, 'utf8').trim(), credentialsFile);
      rmSync(tokenFile, { force: true }); // spent: central accepts a token once
      process.stdout.write(`enrolled as "${config.gateway.id}" with ${tokenFile}\n`);
    } catch (error) {
      process.stderr.write(`siem-gateway: first-boot enrollment failed: ${(error as Error).message}\n`);
      return 1;
    }
  }
  const credentials = readCredentials(credentialsFile, config.gateway.id);
  if (command === 'validate') {
    const note = credentials.ok ? '' : ` (warning: ${credentials.error})`;
    process.stdout.write(`${values.config}: valid${note}\n`);
    return 0;
  }
  if (!credentials.ok) {
    process.stderr.write(`siem-gateway: ${credentials.error}\n`);
    return 2;
  }
  return runGateway(values.config, config, credentials.credentials.private_key, flags);
}

/** `run`: until SIGINT/SIGTERM; SIGHUP reloads the config (queued events stay on disk). */
async function runGateway(
  file: string,
  initial: GatewayConfig,
  privateKey: string,
  flags: ConfigOverride[],
): Promise<number> {
  // Loaded only for `run`, so that `validate` stays quick on a small box.
  const { startGateway } = await import('./index.ts');
  const systemd = createSystemdNotifier();
  const start = async (config: GatewayConfig) => {
    const gateway = await startGateway(config, { privateKey });
    for (const source of gateway.sources()) {
      for (const a of source.addresses()) {
        process.stdout.write(`source ${source.name}: ${source.type} ${a.transport} on ${a.host}:${a.port}\n`);
      }
    }
    const url = gateway.httpUrl();
    process.stdout.write(`http: ${url}/healthz ${url}/api/status ${url}/metrics\n`);
    return gateway;
  };
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await start(initial);
  } catch (error) {
    process.stderr.write(`siem-gateway: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  systemd.ready(`gateway ${initial.gateway.id} running`);
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      const loaded = loadGatewayConfig(file, process.env, flags);
      if (!loaded.ok) {
        process.stderr.write(
          `siem-gateway: config not reloaded, it is invalid:\n${loaded.errors.map((e) => `  ${e}\n`).join('')}`,
        );
        return;
      }
      systemd.status('reloading');
      await gateway.stop();
      try {
        gateway = await start(loaded.config);
        process.stdout.write('config reloaded\n');
      } catch (error) {
        process.stderr.write(
          `siem-gateway: reload failed (${(error as Error).message}); back to the previous config\n`,
        );
        gateway = await start(gateway.config);
      }
      systemd.status(`gateway ${gateway.config.gateway.id} running`);
    });
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  systemd.stopping();
  await reloading;
  await gateway.stop({ drainMs: gateway.config.central.stop_drain_secs * 1000 });
  return 0;
}

/**
 * First-boot enrollment against the first node of `central.endpoints` that answers: every node
 * shares one PostgreSQL, so any of them spends the token and knows the key. A node that answers
 * with a refusal (token spent or unknown) ends it: another would say the same.
 */
async function enrollAnyNode(config: GatewayConfig, token: string, credentialsFile: string): Promise<void> {
  const unreachable: string[] = [];
  for (const endpoint of config.central.endpoints) {
    try {
      await enrollGateway({
        central: centralBaseUrl(endpoint),
        token,
        gatewayId: config.gateway.id,
        credentialsFile,
        ...tlsMaterial(config),
      });
      return;
    } catch (error) {
      const message = (error as Error).message;
      if (!message.startsWith('cannot reach central')) throw error;
      unreachable.push(message);
    }
  }
  throw new Error(unreachable.join('; '));
}

/** Central's HTTP(S) base URL from the link endpoint: wss://host:port/link → https://host:port. */
function centralBaseUrl(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}

function tlsMaterial(config: GatewayConfig) {
  const tls = config.central.tls;
  return {
    ca: tls?.ca_file ? readFileSync(tls.ca_file, 'utf8') : undefined,
    cert: tls?.cert_file ? readFileSync(tls.cert_file, 'utf8') : undefined,
    key: tls?.key_file ? readFileSync(tls.key_file, 'utf8') : undefined,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      central: { type: 'string' },
      token: { type: 'string' },
      ca: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/**
 * `siem-gateway`: the gateway's command line. `run` starts the gateway until SIGINT/SIGTERM;
 * `validate` checks a config and exits. Config errors are printed as one line per problem,
 * naming the key, and exit with status 2; they never show a stack trace.
 */
import { parseArgs } from 'node:util';
import type { ConfigOverride } from '../protocols/config/yaml-config.ts';
import { loadGatewayConfig, readGatewayToken } from './config/load.ts';

const HELP = `Usage: siem-gateway <command> --config FILE [options]

Commands:
  run        start the gateway (until SIGINT or SIGTERM)
  validate   check the config file and exit (status 0 when valid, 2 when not)
  help       show this text

Options:
  -c, --config FILE     YAML config (see gateway/config/example.yaml)
      --log-level LVL   override log.level (fatal|error|warn|info|debug|trace|silent)
  -h, --help            show this text

Environment:
  SIEM_GATEWAY_TOKEN      link token (else central.token_file)
  SIEM_GATEWAY_ID         overrides gateway.id
  SIEM_CENTRAL_ENDPOINT   overrides central.endpoint
  SIEM_GATEWAY_DATA_DIR   overrides gateway.data_dir
`;

export async function main(argv: string[]): Promise<number> {
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
  if (command !== 'run' && command !== 'validate') {
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
  const token = readGatewayToken(loaded.config, process.env);
  if (command === 'validate') {
    if (!token.ok) process.stdout.write(`${values.config}: valid (warning: ${token.error})\n`);
    else process.stdout.write(`${values.config}: valid\n`);
    return 0;
  }
  if (!token.ok) {
    process.stderr.write(`siem-gateway: ${token.error}\n`);
    return 2;
  }
  // Loaded only for `run`, so that `validate` stays quick on a small box.
  const { startGateway } = await import('./index.ts');
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway(loaded.config, { token: token.token });
  } catch (error) {
    process.stderr.write(`siem-gateway: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  for (const source of gateway.sources()) {
    for (const a of source.addresses()) {
      process.stdout.write(`source ${source.name}: syslog ${a.transport} on ${a.host}:${a.port}\n`);
    }
  }
  process.stdout.write(`http: ${gateway.httpUrl()}/healthz ${gateway.httpUrl()}/metrics\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gateway.stop();
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

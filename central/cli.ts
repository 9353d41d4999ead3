/**
 * `siem-central`: central's command line. `run` serves until SIGINT/SIGTERM; `validate` checks a
 * config; `new-token` prints a fresh random token and the SHA-256 to put in the config.
 * Config errors are one line per problem, naming the key, exit status 2, no stack trace.
 */
import { parseArgs } from 'node:util';
import type { ConfigOverride } from '../server-shared/config/yaml-config.ts';
import { newToken, sha256Hex } from './auth/tokens.ts';
import { lifecycleCommand, restoreCommand } from './cli-storage.ts';
import { userCommand } from './cli-users.ts';
import { loadCentralConfig } from './config/load.ts';
import { startCentral } from './index.ts';

const HELP = `Usage: siem-central <command> [options]

Commands:
  run         start central (until SIGINT or SIGTERM)       needs --config
  validate    check the config file and exit (0 valid, 2 not) needs --config
  new-token   print a new random API token and its sha256 (for api.tokens)
  enroll-token      ask a running central for a one-time gateway enrollment token
                    (needs --central URL and SIEM_API_TOKEN; --gateway ID binds it
                    to one gateway id, --ttl SECS sets its lifetime)
  revoke-gateway ID revoke a gateway on a running central: its connections are
                    closed and refused from then on (--central URL, SIEM_API_TOKEN)
  lifecycle         run the partition lifecycle once (partitions ahead, retention
                    with archive, DEFAULT partition count); prints a JSON report
                    needs --config
  user list | add NAME [--role R] | passwd NAME [--reset-totp]
                    manage dashboard users on the store directly (a locked-out or
                    lost admin); the password comes from --password-file (0600)
                    or is generated and printed once; needs --config
  archive restore FILE
                    restore an archived partition (its .manifest.json or archive
                    file) into events; identical rows, nothing stored twice
                    needs --config
  help        show this text

Options:
  -c, --config FILE     YAML config (see central/config/example.yaml)
      --listen H:P      override http.listen
      --central URL     enroll-token, revoke-gateway: central's base URL
      --gateway ID      enroll-token: the gateway id the token may enroll
      --ttl SECS        enroll-token: lifetime (default: enrollment.default_ttl_secs)
      --role ROLE       user add: admin, analyst or viewer (default viewer)
      --password-file F user add/passwd: read the new password from F (mode 0600)
      --reset-totp      user passwd: also clear the user's TOTP second factor
      --log-level LVL   override log.level
  -h, --help            show this text

Environment:
  DATABASE_URL     store events in this PostgreSQL instead of the embedded PGlite
  SIEM_API_TOKEN   an API bearer token accepted in addition to api.tokens (and
                   the token enroll-token and revoke-gateway present)
`;

export async function main(argv: string[]): Promise<number> {
  let values: {
    config?: string;
    listen?: string;
    central?: string;
    gateway?: string;
    ttl?: string;
    role?: string;
    'password-file'?: string;
    'reset-totp'?: boolean;
    'log-level'?: string;
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        listen: { type: 'string' },
        central: { type: 'string' },
        gateway: { type: 'string' },
        ttl: { type: 'string' },
        role: { type: 'string' },
        'password-file': { type: 'string' },
        'reset-totp': { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`siem-central: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const command = positionals[0] ?? 'help';
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'new-token') {
    const token = newToken();
    process.stdout.write(`token:        ${token}\ntoken_sha256: ${sha256Hex(token)}\n`);
    return 0;
  }
  if (command === 'enroll-token' || command === 'revoke-gateway') {
    return adminCommand(command, positionals[1], values);
  }
  if (command === 'archive' && (positionals[1] !== 'restore' || !positionals[2])) {
    process.stderr.write('siem-central: usage: archive restore FILE --config FILE\n');
    return 2;
  }
  if (!['run', 'validate', 'lifecycle', 'archive', 'user'].includes(command)) {
    process.stderr.write(`siem-central: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  if (!values.config) {
    process.stderr.write('siem-central: --config FILE is required\n');
    return 2;
  }
  const flags: ConfigOverride[] = [];
  if (values.listen) flags.push({ path: 'http.listen', value: values.listen });
  if (values['log-level']) flags.push({ path: 'log.level', value: values['log-level'] });
  const loaded = loadCentralConfig(values.config, process.env, flags);
  if (!loaded.ok) {
    process.stderr.write(`siem-central: invalid config\n${loaded.errors.map((e) => `  ${e}\n`).join('')}`);
    return 2;
  }
  if (command === 'validate') {
    process.stdout.write(`${values.config}: valid\n`);
    return 0;
  }
  if (command === 'lifecycle') return lifecycleCommand(loaded.config);
  if (command === 'archive') return restoreCommand(loaded.config, positionals[2]!);
  if (command === 'user') {
    return userCommand(loaded.config, positionals[1], positionals[2], {
      role: values.role,
      passwordFile: values['password-file'],
      resetTotp: values['reset-totp'],
    });
  }
  let central: Awaited<ReturnType<typeof startCentral>>;
  try {
    central = await startCentral(loaded.config, { apiToken: process.env.SIEM_API_TOKEN });
  } catch (error) {
    process.stderr.write(`siem-central: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `central: ${central.url()}  link: ${central.linkUrl()}  storage: ${central.store.adapter}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await central.stop();
  return 0;
}

/** enroll-token and revoke-gateway: thin clients of the running central's API. */
async function adminCommand(
  command: 'enroll-token' | 'revoke-gateway',
  id: string | undefined,
  values: { central?: string; gateway?: string; ttl?: string },
): Promise<number> {
  const apiToken = process.env.SIEM_API_TOKEN;
  if (!values.central || !apiToken) {
    process.stderr.write(`siem-central: ${command} needs --central URL and SIEM_API_TOKEN\n`);
    return 2;
  }
  if (command === 'revoke-gateway' && !id) {
    process.stderr.write('siem-central: revoke-gateway needs the gateway id\n');
    return 2;
  }
  const url =
    command === 'enroll-token'
      ? new URL('/api/enrollment-tokens', values.central)
      : new URL(`/api/gateways/${encodeURIComponent(id!)}/revoke`, values.central);
  const body =
    command === 'enroll-token'
      ? {
          ...(values.gateway && { gateway_id: values.gateway }),
          ...(values.ttl && { ttl_secs: Number(values.ttl) }),
        }
      : {};
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    process.stderr.write(`siem-central: cannot reach ${url.origin}: ${(error as Error).message}\n`);
    return 1;
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    process.stderr.write(
      `siem-central: ${command} failed (HTTP ${response.status}): ${String(answer.error ?? '')}\n`,
    );
    return 1;
  }
  if (command === 'enroll-token') {
    process.stdout.write(`token:      ${String(answer.token)}\nexpires_at: ${String(answer.expires_at)}\n`);
    process.stdout.write(
      `on the gateway: siem-gateway enroll --central ${values.central} --token <token> --config FILE\n`,
    );
  } else {
    process.stdout.write(`gateway ${id} revoked\n`);
  }
  return 0;
}

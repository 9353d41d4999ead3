/**
 * Loads the gateway config: file, then environment (SIEM_GATEWAY_ID, SIEM_CENTRAL_ENDPOINT),
 * then flags. The link token is a secret and never sits in the YAML: it comes from
 * SIEM_GATEWAY_TOKEN or from `central.token_file`.
 */
import { readFileSync, statSync } from 'node:fs';
import {
  type ConfigOverride,
  type ConfigResult,
  loadYamlConfig,
} from '../../protocols/config/yaml-config.ts';
import { type GatewayConfig, gatewayConfigSchema } from './schema.ts';

export function loadGatewayConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  flags: ConfigOverride[] = [],
): ConfigResult<GatewayConfig> {
  const overrides: ConfigOverride[] = [];
  if (env.SIEM_GATEWAY_ID) overrides.push({ path: 'gateway.id', value: env.SIEM_GATEWAY_ID });
  if (env.SIEM_CENTRAL_ENDPOINT)
    overrides.push({ path: 'central.endpoint', value: env.SIEM_CENTRAL_ENDPOINT });
  if (env.SIEM_GATEWAY_DATA_DIR)
    overrides.push({ path: 'gateway.data_dir', value: env.SIEM_GATEWAY_DATA_DIR });
  return loadYamlConfig(file, gatewayConfigSchema, [...overrides, ...flags]);
}

/** The link token: SIEM_GATEWAY_TOKEN wins over `central.token_file`. */
export function readGatewayToken(
  config: GatewayConfig,
  env: NodeJS.ProcessEnv = process.env,
): { ok: true; token: string } | { ok: false; error: string } {
  if (env.SIEM_GATEWAY_TOKEN) return { ok: true, token: env.SIEM_GATEWAY_TOKEN };
  const file = config.central.token_file;
  if (!file) return { ok: false, error: 'no link token: set SIEM_GATEWAY_TOKEN or central.token_file' };
  try {
    const mode = statSync(file).mode & 0o077;
    if (mode & 0o007) return { ok: false, error: `${file}: token file is readable by others; chmod 600 it` };
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 16) return { ok: false, error: `${file}: token is shorter than 16 characters` };
    return { ok: true, token };
  } catch (error) {
    return { ok: false, error: `${file}: cannot read token file (${(error as NodeJS.ErrnoException).code})` };
  }
}

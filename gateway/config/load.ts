/**
 * Loads the gateway config: file, then environment (SIEM_GATEWAY_ID, SIEM_CENTRAL_ENDPOINT (one URL or a comma-separated list),
 * SIEM_GATEWAY_DATA_DIR), then flags. No secret ever sits in the YAML: the gateway's key is
 * created by `siem-gateway enroll` in its own 0600 credentials file.
 */
import path from 'node:path';
import {
  type ConfigOverride,
  type ConfigResult,
  loadYamlConfig,
} from '../../server-shared/config/yaml-config.ts';
import { type GatewayConfig, gatewayConfigSchema } from './schema.ts';

export function loadGatewayConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  flags: ConfigOverride[] = [],
): ConfigResult<GatewayConfig> {
  const overrides: ConfigOverride[] = [];
  if (env.SIEM_GATEWAY_ID) overrides.push({ path: 'gateway.id', value: env.SIEM_GATEWAY_ID });
  if (env.SIEM_CENTRAL_ENDPOINT) {
    // One URL, or several separated by commas (central.endpoints); either replaces the file's.
    const urls = env.SIEM_CENTRAL_ENDPOINT.split(',').map((u) => u.trim());
    overrides.push(
      { path: 'central.endpoint', value: urls.length === 1 ? urls[0] : undefined },
      { path: 'central.endpoints', value: urls.length === 1 ? undefined : urls },
    );
  }
  if (env.SIEM_GATEWAY_DATA_DIR)
    overrides.push({ path: 'gateway.data_dir', value: env.SIEM_GATEWAY_DATA_DIR });
  return loadYamlConfig(file, gatewayConfigSchema, [...overrides, ...flags]);
}

/** Where the enrolled key lives. */
export function credentialsPath(config: GatewayConfig): string {
  return config.central.credentials_file ?? path.join(config.gateway.data_dir, 'credentials.json');
}

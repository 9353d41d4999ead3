/**
 * Loads central's config: file, then environment, then flags. DATABASE_URL switches storage to
 * PostgreSQL; SIEM_API_TOKEN adds an API token without writing it to any file.
 */
import {
  type ConfigOverride,
  type ConfigResult,
  loadYamlConfig,
} from '../../server-shared/config/yaml-config.ts';
import { type CentralConfig, centralConfigSchema } from './schema.ts';

export function loadCentralConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  flags: ConfigOverride[] = [],
): ConfigResult<CentralConfig> {
  const overrides: ConfigOverride[] = [];
  if (env.DATABASE_URL)
    overrides.push({ path: 'storage', value: { type: 'postgres', url: env.DATABASE_URL } });
  return loadYamlConfig(file, centralConfigSchema, [...overrides, ...flags]);
}

/**
 * Reads a sink's secret from the environment variable or the file its config names (STYLE.md
 * "Secrets come from the environment or files"), failing at start with the key to fix.
 */
import { readFileSync } from 'node:fs';

export function readSecret(
  sink: string,
  config: { secret_env?: string; secret_file?: string },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (config.secret_env) {
    const value = env[config.secret_env];
    if (!value)
      throw new Error(`sinks.${sink}.secret_env: environment variable ${config.secret_env} is not set`);
    return value;
  }
  if (config.secret_file) {
    try {
      return readFileSync(config.secret_file, 'utf8').trim();
    } catch (error) {
      throw new Error(`sinks.${sink}.secret_file: ${(error as Error).message}`);
    }
  }
  return undefined;
}

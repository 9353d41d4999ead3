/**
 * The Modbus/TCP inline proxy source factory (see proxy.ts for what it does on the wire).
 */
import type { Source, SourceContext } from '../../pipeline/types.ts';
import type { ModbusProxySourceConfig } from './config.ts';
import { createModbusProxySource } from './proxy.ts';

export function createModbusProxy(name: string, config: ModbusProxySourceConfig, ctx: SourceContext): Source {
  return createModbusProxySource(name, config, ctx);
}

/**
 * Builds a source from its validated config. Each protocol lives in its own folder with its
 * config.ts and factory; this switch is the only place that knows them all.
 */
import type { Source, SourceContext } from '../pipeline/types.ts';
import type { SourceConfig } from './schema.ts';
import { createCaptureSource } from './capture/index.ts';
import { createModbusPoller } from './modbus-poller/index.ts';
import { createModbusProxy } from './modbus-proxy/index.ts';
import { createCoapSource } from './coap/index.ts';
import { createFileSource } from './file/index.ts';
import { createMqttBrokerSource } from './mqtt-broker/index.ts';
import { createMqttClientSource } from './mqtt-client/index.ts';
import { createRelpSource } from './relp/index.ts';
import { createOtProxy } from './ot-proxy/index.ts';
import { createSyslogSource } from './syslog/index.ts';

export function createSource(name: string, config: SourceConfig, ctx: SourceContext): Source {
  switch (config.type) {
    case 'syslog':
      return createSyslogSource(name, config, ctx);
    case 'mqtt_broker':
      return createMqttBrokerSource(name, config, ctx);
    case 'mqtt_client':
      return createMqttClientSource(name, config, ctx);
    case 'coap':
      return createCoapSource(name, config, ctx);
    case 'modbus_proxy':
      return createModbusProxy(name, config, ctx);
    case 'modbus_poller':
      return createModbusPoller(name, config, ctx);
    case 'capture':
      return createCaptureSource(name, config, ctx);
    case 'ot_proxy':
      return createOtProxy(name, config, ctx);
    case 'file':
      return createFileSource(name, config, ctx);
    case 'relp':
      return createRelpSource(name, config, ctx);
  }
}

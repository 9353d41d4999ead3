/**
 * The syslog source factory: UDP, TCP or TLS according to `mode`.
 */

import type { Source, SourceContext } from '../../pipeline/types.ts';
import type { SyslogSourceConfig } from './config.ts';
import { createSyslogStreamSource } from './stream.ts';
import { createSyslogUdpSource } from './udp.ts';

export function createSyslogSource(name: string, config: SyslogSourceConfig, ctx: SourceContext): Source {
  return config.mode === 'udp'
    ? createSyslogUdpSource(name, config, ctx)
    : createSyslogStreamSource(name, config, ctx);
}

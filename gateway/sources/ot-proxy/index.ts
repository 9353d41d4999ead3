/**
 * The OT inline proxy source factory (see proxy.ts for the listeners, connection.ts for the relay).
 */
import type { Source, SourceContext } from '../../pipeline/types.ts';
import type { OtProxySourceConfig } from './config.ts';
import { createOtProxySource } from './proxy.ts';

export function createOtProxy(name: string, config: OtProxySourceConfig, ctx: SourceContext): Source {
  return createOtProxySource(name, config, ctx);
}

/**
 * What the broker's sensor hooks are built with: the connection hooks (hooks.ts) and the publish
 * and subscribe hooks (publish-hooks.ts) share it, so it lives here rather than in either of them.
 */
import type { Client } from 'aedes';
import type { SourceContext } from '../../pipeline/types.ts';
import type { RateTracker } from '../shared-mqtt-rates.ts';
import type { TelemetrySampler } from '../telemetry/sampler.ts';
import type { createAuthenticator } from './auth.ts';
import type { PublishGate } from './backpressure.ts';
import type { MqttBrokerSourceConfig } from './config.ts';
import type { ConnInfo } from './events.ts';

export interface SensorDeps {
  name: string;
  config: MqttBrokerSourceConfig;
  ctx: SourceContext;
  infoOf: (client: Client | null | undefined) => ConnInfo | undefined;
  auth: ReturnType<typeof createAuthenticator>;
  rates: RateTracker;
  telemetry: TelemetrySampler;
  isStopping: () => boolean;
  /** The bound on publishes waiting for their durable write (backpressure.ts). */
  gate: PublishGate;
}

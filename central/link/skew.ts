/**
 * Watches the clock offsets gateways report on the link: records the latest one in the registry
 * (at most every 30 s per gateway) and raises a `central.clock_skew` health event when a
 * gateway's clock is further off than allowed — once per gateway per hour, so a Pi without NTP
 * is reported, not repeated.
 */
import type { Logger } from 'pino';
import type { CentralEvents } from '../events.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';

const TOUCH_EVERY_MS = 30_000;
const REPORT_EVERY_MS = 3_600_000;

export function createSkewMonitor(options: {
  registry: GatewayRegistry;
  centralEvents: CentralEvents;
  maxSkewMs: number;
  logger: Logger;
}) {
  const touched = new Map<string, number>();
  const reported = new Map<string, number>();
  return (gateway: string, offsetMs: number): void => {
    const now = Date.now();
    if (now - (touched.get(gateway) ?? 0) >= TOUCH_EVERY_MS) {
      touched.set(gateway, now);
      options.registry.touch(gateway, new Date(now), offsetMs).catch((error: Error) => {
        options.logger.warn({ err: error.message }, 'could not record gateway last-seen');
      });
    }
    if (Math.abs(offsetMs) <= options.maxSkewMs || now - (reported.get(gateway) ?? 0) < REPORT_EVERY_MS)
      return;
    reported.set(gateway, now);
    void options.centralEvents.raise({
      kind: 'health',
      action: 'central.clock_skew',
      severity: 4,
      message: `gateway "${gateway}" clock is off by ${Math.round(offsetMs / 1000)} s; its gateway-timed events are corrected`,
      fields: { gateway_id: gateway, clock_offset_ms: offsetMs, max_skew_ms: options.maxSkewMs },
    });
  };
}

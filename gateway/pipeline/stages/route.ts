/**
 * `route`: puts matching events in a lane of the durable queue (gateway/queue: `alert` travels
 * first after an outage and is never evicted, then `security`, then `telemetry`). The lane is a
 * `lane:<name>` tag, which the queue reads and central shows.
 */
import type { Predicate } from '../match.ts';
import type { Stage } from '../stage.ts';

export function createRouteStage(options: { name: string; lane: string; matches: Predicate }): Stage {
  const tag = `lane:${options.lane}`;
  return {
    name: options.name,
    type: 'route',
    dropReason: 'none',
    process(event) {
      if (!options.matches(event) || event.tags.includes(tag)) return event;
      return { ...event, tags: [...event.tags.filter((t) => !t.startsWith('lane:')), tag] };
    },
  };
}

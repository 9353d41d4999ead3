/**
 * `forward`: the last stage, always present, set by `pipeline.forward`. `all` forwards what the
 * stages left; `security` drops telemetry; `alerts` keeps only the gateway's own health reports
 * (alerts and their evidence never pass through stages, so they always go). For very thin links.
 */
import type { Stage } from '../stage.ts';

export function createForwardStage(profile: 'all' | 'security' | 'alerts'): Stage {
  return {
    name: 'forward',
    type: 'forward',
    dropReason: 'not_forwarded',
    process(event) {
      if (profile === 'all') return event;
      if (profile === 'security') return event.kind === 'telemetry' ? null : event;
      return event.kind === 'alert' || (event.kind === 'health' && event.source === 'gateway') ? event : null;
    },
  };
}

/**
 * Which alerts a sink forwards: at least its minimum severity, and, when the filter lists them,
 * one of its rule tags, one of its sites and one of its gateways. Pure.
 */
import type { Alert } from '../alerts/types.ts';
import type { SinkFilter } from './config.ts';

export function sinkAccepts(filter: SinkFilter, alert: Alert): boolean {
  if (alert.severity > filter.min_severity) return false;
  if (filter.tags.length > 0 && !alert.tags.some((t) => filter.tags.includes(t))) return false;
  if (filter.sites.length > 0 && (alert.site === null || !filter.sites.includes(alert.site))) return false;
  if (filter.gateways.length > 0 && (alert.gateway === null || !filter.gateways.includes(alert.gateway))) {
    return false;
  }
  return true;
}

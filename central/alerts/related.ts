/**
 * How "related events" of an alert are found: events of the same device (by `device_id`) or,
 * for a host alert, of the same host name (case-insensitive, as the event search compares
 * hosts); both served by the (device_id, ts) and (lower(host), ts) indexes.
 */
import { SELECT_COLUMNS } from '../store/event-rows.ts';

export const EVENT_COLUMNS_FOR_RELATED = SELECT_COLUMNS;

export function relatedEventsWhere(entityType: 'device' | 'host'): string {
  return entityType === 'device' ? 'device_id = $1' : 'lower(host) = lower($1)';
}

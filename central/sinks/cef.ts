/**
 * An alert as a CEF record (protocols/cef) inside an RFC 5424 syslog message: the rule is the
 * signature id and name, the alert's severity maps onto CEF 0–10, and the extension carries the
 * ArcSight dictionary keys a SOC's SIEM maps without configuration (rt, start, end, cnt,
 * externalId, shost, act) plus labelled custom strings for what has no standard key.
 */
import { hostname } from 'node:os';
import { cefSeverity, formatCef } from '../../protocols/cef/format.ts';
import { formatRfc5424 } from '../../protocols/syslog/format.ts';
import type { Alert } from '../alerts/types.ts';

export const CEF_VENDOR = 'edge-siem';
export const CEF_PRODUCT = 'central';
export const CEF_VERSION = '0.1';

export function alertCef(alert: Alert, idempotencyKey: string): string {
  return formatCef({
    vendor: CEF_VENDOR,
    product: CEF_PRODUCT,
    productVersion: CEF_VERSION,
    signatureId: alert.rule_id,
    name: alert.rule_title,
    severity: cefSeverity(alert.severity),
    extension: [
      ['rt', Date.parse(alert.last_seen)],
      ['start', Date.parse(alert.first_seen)],
      ['end', Date.parse(alert.last_seen)],
      ['cnt', alert.count],
      ['externalId', String(alert.id)],
      ['act', alert.status],
      ['shost', alert.host],
      ['deviceExternalId', alert.device_id],
      ['dvchost', alert.gateway],
      ['cs1Label', 'attackTechniques'],
      ['cs1', alert.techniques.join(',')],
      ['cs2Label', 'site'],
      ['cs2', alert.site],
      ['cs3Label', 'eventIds'],
      ['cs3', alert.event_ids.slice(0, 20).join(',')],
      ['cs4Label', 'idempotencyKey'],
      ['cs4', idempotencyKey],
      ['cs5Label', 'ruleTags'],
      ['cs5', alert.tags.join(',')],
    ],
  });
}

/** The whole syslog message: PRI from the facility and the alert's severity, time = last seen. */
export function alertSyslogMessage(
  alert: Alert,
  idempotencyKey: string,
  options: { facility: number; hostname?: string },
): string {
  return formatRfc5424(
    {
      pri: options.facility * 8 + alert.severity,
      timestamp: new Date(alert.last_seen),
      hostname: options.hostname ?? hostname(),
      appName: 'siem-central',
      msgId: 'alert',
      msg: alertCef(alert, idempotencyKey),
    },
    { bom: false },
  );
}

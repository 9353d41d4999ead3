/**
 * The alert model of central: what `raiseAlert` accepts (from the detection engine, or
 * `POST /api/alerts`), what an alert row looks like to the API, and the mapping of Sigma levels
 * onto the syslog severity scale that events use (0 = emergency … 7 = debug).
 */
import { z } from 'zod';
import type * as Api from '../../protocols/api/central.ts';

export const ALERT_STATUSES = ['new', 'acknowledged', 'resolved', 'false_positive'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Sigma `level` → syslog severity (Sigma specification, "level"; RFC 5424 §6.2.1 numbers). */
export const LEVEL_SEVERITY = {
  critical: 2,
  high: 3,
  medium: 4,
  low: 5,
  informational: 6,
} as const;
export type SigmaLevel = keyof typeof LEVEL_SEVERITY;

/** At most this many triggering event ids are kept per alert: the first half, then the latest. */
export const MAX_EVENT_IDS = 100;

const text = (max: number) => z.string().min(1).max(max);

export const alertInputSchema = z
  .strictObject({
    rule: z.strictObject({
      id: text(128),
      title: text(256),
      level: z.enum(Object.keys(LEVEL_SEVERITY) as [SigmaLevel, ...SigmaLevel[]]).optional(),
      severity: z.number().int().min(0).max(7).optional(),
      techniques: z
        .array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id like T0836'))
        .max(64)
        .default([]),
      tags: z.array(text(128)).max(64).default([]),
    }),
    entity: z
      .strictObject({
        device_id: text(256).optional(),
        host: text(255).optional(),
        gateway: text(64).optional(),
        site: text(128).optional(),
      })
      .refine((e) => e.device_id !== undefined || e.host !== undefined, 'a device_id or a host is required'),
    event_ids: z.array(text(200)).max(1000).default([]),
    /** Hits this call stands for (an edge grouper may have folded some already). */
    count: z.number().int().min(1).max(1_000_000).default(1),
    /** When the hit happened (the triggering event's time); default now. */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((a) => a.rule.level !== undefined || a.rule.severity !== undefined, {
    message: 'rule.level or rule.severity is required',
    path: ['rule'],
  });

export type AlertInput = z.input<typeof alertInputSchema>;

/** An alert row as the API returns it: the contract's (protocols/api/central.ts), defined once there. */
export type Alert = Api.Alert;

export interface RaiseResult {
  /**
   * `created`: a new alert; `grouped`: folded into an open one; `suppressed`: nothing stored;
   * `repeated`: a keyed raise already made (raise.ts), nothing changed.
   */
  outcome: 'created' | 'grouped' | 'suppressed' | 'repeated';
  alert?: Alert;
}

/**
 * The shapes of central's API answers the SOC dashboard reads: the contract in
 * protocols/api/central.ts (which central's routes are checked against), imported as types only,
 * since the dashboards import nothing from the servers and speak HTTP only (DESIGN.md, "Folders").
 */
import type { AlertStatus } from '../../../protocols/api/central.ts';

export type {
  Alert,
  AlertDetail,
  AlertStatus,
  AuditEntry,
  Bucket,
  Device,
  FleetGateway,
  GatewayRules,
  GatewayRulesState,
  LiveStats,
  Overview,
  QueueReport,
  RuleProblem,
  RuleSummary,
  SiemEvent,
  User,
} from '../../../protocols/api/central.ts';
export type { ApiError, ApiErrorCode } from '../../../protocols/api/errors.ts';

/** Every alert status, in the order the queue's filter offers them. */
export const ALERT_STATUSES = [
  'new',
  'acknowledged',
  'resolved',
  'false_positive',
] as const satisfies readonly AlertStatus[];
// A status added to the contract but missing above fails the type-check here.
type Missing = Exclude<AlertStatus, (typeof ALERT_STATUSES)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

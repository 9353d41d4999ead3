/**
 * The shapes of the gateway API the device dashboard reads: the contract in
 * protocols/api/gateway.ts (which the gateway's routes are checked against), imported as types
 * only, since the dashboards import nothing from the servers and speak HTTP only.
 */
export type {
  AlertSummary,
  Baseline,
  BaselineState,
  Device,
  DeviceUpdate,
  EventSummary,
  GatewayStatus,
  Lane,
  LatestValue,
  PipelineCounts,
  ValueSeries,
} from '../../../protocols/api/gateway.ts';

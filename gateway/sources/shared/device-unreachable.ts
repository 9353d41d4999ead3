/**
 * The event an inline proxy raises when the device behind it does not accept its connection: the
 * client was refused on the device's behalf, which the SOC sees as `<protocol>.device_unreachable`
 * (a device down, or a link cut between gateway and device). Shared by the Modbus and OT proxies.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';

export interface DeviceUnreachable {
  now: Date;
  /** The event's source and action prefix: `modbus`, `dnp3`, `s7comm`… */
  protocol: PendingEvent['source'];
  /** How the message names the device (`PLC`, `dnp3 device`). */
  label: string;
  proxy: string;
  /** The configured upstream, as written, and the config key it came from (`fields`). */
  endpoint: { key: string; value: string };
  upstream: { host: string; port: number };
  client: { ip: string; port: number };
  deviceName?: string | undefined;
  why: string;
}

export function deviceUnreachableEvent(u: DeviceUnreachable): PendingEvent {
  const ts = u.now.toISOString();
  return {
    ts,
    received: ts,
    source: u.protocol,
    kind: 'security',
    action: `${u.protocol}.device_unreachable`,
    severity: 3,
    message: `${u.label} ${u.endpoint.value} unreachable through proxy ${u.proxy}: ${u.why}`,
    device: { id: `${u.protocol}:${u.upstream.host}`, ...(u.deviceName ? { name: u.deviceName } : {}) },
    src: { ip: u.client.ip, port: u.client.port },
    dst: { ip: u.upstream.host, port: u.upstream.port },
    fields: { proxy: u.proxy, [u.endpoint.key]: u.endpoint.value, error: u.why },
    tags: [],
  };
}

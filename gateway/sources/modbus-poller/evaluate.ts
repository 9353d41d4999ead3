/**
 * What one poll cycle means, pure (time passed in): the outcomes of the cycle's reads become one
 * `modbus.poll` telemetry event with every value, plus security events for what an OT engineer
 * must hear about: a set-point that changed between two polls, a value leaving (and re-entering)
 * its configured range, an exception response (Application Protocol V1.1b3 §7; reported once
 * until the read succeeds or the code changes, so a misconfigured map does not flood the queue),
 * and a device that stopped answering (after `unreachable_after_failures` cycles without any
 * response) and its recovery. The first poll sets the baseline: it reports no change.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EXCEPTION_NAMES, functionName } from '../../../protocols/modbus/index.ts';
import type { ModbusPollerSourceConfig } from './config.ts';
import { decodePoint, type PointValue, type ReadBlock } from './registers.ts';

export type BlockOutcome =
  | { block: ReadBlock; ok: true; data: number[] }
  | { block: ReadBlock; ok: false; exceptionCode: number }
  | { block: ReadBlock; ok: false; error: string };

export interface PollerIdentity {
  /** The source's name (fields.poller). */
  name: string;
  /** `host:port` or the serial device path. */
  endpoint: string;
  transport: 'tcp' | 'rtu';
  /** The device's address for `dst` (TCP only). */
  peer?: { ip: string; port: number };
}

export interface PollerState {
  cycle(outcomes: BlockOutcome[], now: Date, durationMs: number): PendingEvent[];
  /** Last decoded values by point name. */
  values(): ReadonlyMap<string, PointValue>;
  reachable(): boolean;
}

export function createPollerState(config: ModbusPollerSourceConfig, id: PollerIdentity): PollerState {
  const last = new Map<string, PointValue>();
  const outOfRange = new Set<string>();
  const exceptions = new Map<string, number>();
  let failures = 0;
  let down: { since: Date } | undefined;
  const unit = config.unit_id;
  const where = id.transport === 'tcp' ? (id.peer?.ip ?? id.endpoint) : `serial:${id.endpoint}`;
  const device: PendingEvent['device'] = {
    id: `modbus:${where}/${unit}`,
    protocol_id: String(unit),
    ...(config.device_name ? { name: config.device_name } : {}),
  };
  const units: Record<string, string> = {};
  for (const p of config.points) if (p.unit) units[p.name] = p.unit;

  const event = (
    now: Date,
    kind: PendingEvent['kind'],
    action: string,
    severity: number,
    message: string,
    fields: Record<string, unknown>,
  ): PendingEvent => {
    const t = now.toISOString();
    const e: PendingEvent = {
      ts: t,
      received: t,
      time_source: 'gateway',
      source: 'modbus',
      kind,
      action,
      severity,
      message,
      device,
      fields: { poller: id.name, unit_id: unit, transport: id.transport, endpoint: id.endpoint, ...fields },
      tags: [],
    };
    if (id.peer) e.dst = { ip: id.peer.ip, port: id.peer.port };
    return e;
  };

  const label = device.name ?? device.id;

  return {
    values: () => last,
    reachable: () => down === undefined,
    cycle(outcomes, now, durationMs) {
      const out: PendingEvent[] = [];
      const answered = outcomes.some((o) => o.ok || 'exceptionCode' in o);
      if (!answered) {
        failures++;
        const error = outcomes.map((o) => ('error' in o ? o.error : '')).find(Boolean) ?? 'no response';
        if (!down && failures >= config.unreachable_after_failures) {
          down = { since: now };
          out.push(
            event(now, 'security', 'modbus.device_unreachable', 3, `${label} unreachable: ${error}`, {
              error,
              failed_polls: failures,
            }),
          );
        }
        return out;
      }
      if (down) {
        const downSecs = (now.getTime() - down.since.getTime()) / 1000;
        out.push(
          event(now, 'security', 'modbus.device_reachable', 5, `${label} answers again after ${downSecs} s`, {
            down_secs: downSecs,
            failed_polls: failures,
          }),
        );
        down = undefined;
      }
      failures = 0;
      const readings: Record<string, PointValue> = {};
      const failed: string[] = [];
      for (const o of outcomes) {
        const key = `${o.block.function}:${o.block.address}:${o.block.quantity}`;
        if (!o.ok) {
          for (const p of o.block.points) failed.push(p.name);
          if (!('exceptionCode' in o)) continue;
          if (exceptions.get(key) === o.exceptionCode) continue;
          exceptions.set(key, o.exceptionCode);
          const name = EXCEPTION_NAMES[o.exceptionCode] ?? `unknown_${o.exceptionCode}`;
          const fn = functionName(o.block.function);
          out.push(
            event(
              now,
              'security',
              'modbus.exception',
              4,
              `exception ${name} to ${fn} address ${o.block.address}`,
              {
                direction: 'response',
                function_code: o.block.function,
                function: fn,
                exception_code: o.exceptionCode,
                exception: name,
                address: o.block.address,
                quantity: o.block.quantity,
                points: o.block.points.map((p) => p.name),
              },
            ),
          );
          continue;
        }
        exceptions.delete(key);
        for (const p of o.block.points) {
          const value = decodePoint(p, o.data, o.block.address);
          if (value === undefined) {
            failed.push(p.name);
            continue;
          }
          readings[p.name] = value;
          const previous = last.get(p.name);
          last.set(p.name, value);
          const where = {
            point: p.name,
            table: o.block.table,
            address: p.address,
            ...(p.unit ? { unit: p.unit } : {}),
          };
          if (p.setpoint && previous !== undefined && previous !== value) {
            out.push(
              event(
                now,
                'security',
                'modbus.setpoint_change',
                4,
                `set-point ${p.name} changed from ${previous} to ${value}${p.unit ? ` ${p.unit}` : ''}`,
                {
                  ...where,
                  previous,
                  value,
                },
              ),
            );
          }
          if (typeof value !== 'number' || (p.min === undefined && p.max === undefined)) continue;
          const limit =
            p.min !== undefined && value < p.min
              ? 'min'
              : p.max !== undefined && value > p.max
                ? 'max'
                : undefined;
          const range = {
            ...(p.min !== undefined ? { min: p.min } : {}),
            ...(p.max !== undefined ? { max: p.max } : {}),
          };
          if (limit && !outOfRange.has(p.name)) {
            outOfRange.add(p.name);
            out.push(
              event(
                now,
                'security',
                'modbus.value_out_of_range',
                4,
                `${p.name} = ${value} is ${limit === 'min' ? 'below' : 'above'} its ${limit} ${range[limit]}`,
                {
                  ...where,
                  value,
                  limit,
                  ...range,
                },
              ),
            );
          } else if (!limit && outOfRange.delete(p.name)) {
            out.push(
              event(now, 'security', 'modbus.value_in_range', 6, `${p.name} = ${value} is back in range`, {
                ...where,
                value,
                ...range,
              }),
            );
          }
        }
      }
      if (Object.keys(readings).length > 0 || failed.length > 0) {
        const shown = Object.entries(readings)
          .slice(0, 8)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        out.unshift(
          event(now, 'telemetry', 'modbus.poll', 6, `poll ${label}: ${shown}`, {
            readings,
            ...(Object.keys(units).length > 0 ? { units } : {}),
            ...(failed.length > 0 ? { failed_points: failed } : {}),
            requests: outcomes.length,
            duration_ms: durationMs,
          }),
        );
      }
      return out;
    },
  };
}

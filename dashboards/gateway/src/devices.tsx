/**
 * The device list: every device the gateway has seen, grouped by protocol, with the name and
 * identity its protocol gives it (DNP3 address, S7 module and serial, CIP product...), when it was
 * last seen, its message rate and its baseline state; a search box (id, name, host, address) and a
 * protocol filter kept in the URL. Rows update live from the stream's `device` events.
 */
import { useState } from 'preact/hooks';
import { ago, rate } from '../../shared/format.ts';
import { href, setQuery, useRoute } from '../../shared/router.ts';
import { useStream } from '../../shared/stream.ts';
import { ErrorBanner, Pill, useApi } from '../../shared/ui.tsx';
import type { BaselineState, Device, DeviceUpdate } from './types.ts';

const PROTOCOLS = ['modbus', 'dnp3', 's7comm', 'enip', 'bacnet', 'opcua', 'mqtt', 'coap', 'syslog'];

/** What each protocol's `protocol_id` is, for people. */
export const PROTOCOL_ID_LABELS: Record<string, string> = {
  modbus: 'unit id',
  dnp3: 'DNP3 address',
  s7comm: 'serial number',
  enip: 'CIP serial',
  bacnet: 'device instance',
  opcua: 'application URI',
  mqtt: 'client id',
  coap: 'endpoint',
  syslog: 'host',
};

/** The identity fields shown first in the list (the rest are on the device page). */
const SUMMARY_KEYS = [
  'module_type',
  'product_name',
  'order_number',
  'vendor',
  'firmware_version',
  'revision',
];

/** One line saying what a device is: its protocol id and the main identity fields. */
export function identityLine(d: Device): string {
  const parts: string[] = [];
  if (d.protocol_id) parts.push(`${PROTOCOL_ID_LABELS[d.protocol] ?? 'id'} ${d.protocol_id}`);
  for (const k of SUMMARY_KEYS) if (d.identity?.[k]) parts.push(d.identity[k]);
  return parts.join(' · ');
}

export function BaselinePill({ state }: { state: BaselineState | 'disabled' | undefined }) {
  if (state === 'learned') return <Pill tone="ok">learned</Pill>;
  if (state === 'learning') return <Pill tone="warn">learning</Pill>;
  return <Pill tone="muted">{state === 'disabled' ? 'off' : 'none'}</Pill>;
}

function matches(d: Device, q: string, protocol: string): boolean {
  if (protocol && d.protocol !== protocol) return false;
  if (!q) return true;
  const needle = q.toLowerCase();
  return (
    d.id.toLowerCase().includes(needle) ||
    (d.name ?? '').toLowerCase().includes(needle) ||
    (d.host ?? '').toLowerCase().includes(needle) ||
    d.addresses.some((a) => a.includes(needle))
  );
}

export function DevicesPage() {
  const { query } = useRoute();
  const q = query.get('q') ?? '';
  const protocol = query.get('protocol') ?? '';
  const [text, setText] = useState(q);
  const [fresh, setFresh] = useState<Record<string, number>>({});
  const path = `/api/devices?${new URLSearchParams({ ...(q && { q }), ...(protocol && { protocol }) })}`;
  const list = useApi<{ devices: Device[]; total: number; forgotten: number }>(path);

  useStream<DeviceUpdate>('device', ({ device }) => {
    if (!device.protocol || !matches(device, q, protocol)) return;
    list.set((old) => {
      if (!old) return old;
      const rest = old.devices.filter((d) => d.id !== device.id);
      const total = old.total + (rest.length === old.devices.length ? 1 : 0);
      return { ...old, total, devices: [device, ...rest] };
    });
    setFresh((f) => ({ ...f, [device.id]: Date.now() }));
  });

  const devices = list.data?.devices ?? [];
  const groups = [...new Set([...PROTOCOLS, ...devices.map((d) => d.protocol)])]
    .map((p) => ({ protocol: p, devices: devices.filter((d) => d.protocol === p) }))
    .filter((g) => g.devices.length > 0);

  return (
    <section class="card">
      <h1>Devices</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ q: text || undefined, protocol: protocol || undefined });
        }}
      >
        <label>
          Search
          <input
            name="q"
            type="search"
            placeholder="id, name, host or address"
            value={text}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setQuery({ q: e.currentTarget.value || undefined, protocol: protocol || undefined });
            }}
          />
        </label>
        <label>
          Protocol
          <select
            name="protocol"
            value={protocol}
            onChange={(e) => setQuery({ q: q || undefined, protocol: e.currentTarget.value || undefined })}
          >
            <option value="">all</option>
            {PROTOCOLS.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <span class="muted">
          {list.data ? `${list.data.total} devices` : ''}
          {list.data?.forgotten ? ` · ${list.data.forgotten} forgotten (inventory full)` : ''}
        </span>
      </form>
      <ErrorBanner error={list.error} />
      {list.data && devices.length === 0 && <p class="muted">No device has spoken yet.</p>}
      {groups.map((g) => (
        <div key={g.protocol} class="table-wrap">
          <h3>
            {g.protocol} <span class="muted">({g.devices.length})</span>
          </h3>
          <table data-testid={`devices-${g.protocol}`}>
            <thead>
              <tr>
                <th>Device</th>
                <th>Identity</th>
                <th>Host / address</th>
                <th>Last seen</th>
                <th class="num">Msgs/min</th>
                <th class="num">Events</th>
                <th>Baseline</th>
                <th>Last action</th>
              </tr>
            </thead>
            <tbody>
              {g.devices.map((d) => (
                <tr key={`${d.id}:${fresh[d.id] ?? 0}`} class={fresh[d.id] ? 'fresh' : ''} data-device={d.id}>
                  <td>
                    <a href={href(`device/${encodeURIComponent(d.id)}`)}>{d.id}</a>
                    {d.name && <div class="muted small">{d.name}</div>}
                  </td>
                  <td class="small" data-testid="identity">
                    {identityLine(d) || '—'}
                  </td>
                  <td class="muted">{[d.host, ...d.addresses].filter(Boolean).join(' · ') || '—'}</td>
                  <td title={d.last_seen}>{ago(d.last_seen)}</td>
                  <td class="num">{rate(d.rate_per_min)}</td>
                  <td class="num">
                    {d.events.toLocaleString()}
                    {d.security_events > 0 && <span class="muted"> ({d.security_events} sec)</span>}
                  </td>
                  <td>
                    <BaselinePill state={d.baseline} />
                  </td>
                  <td class="mono ellipsis">{d.last_action}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

/**
 * Devices across sites: central's inventory merged from every gateway (`GET /api/devices`,
 * central/api/enrich.ts), filtered by gateway and protocol and by text in the page; each device
 * links to its events in the search.
 */
import { useState } from 'preact/hooks';
import { withQuery } from '../../../shared/api.ts';
import { ago, dateTime } from '../../../shared/format.ts';
import { href, setQuery, type Route } from '../../../shared/router.ts';
import { ErrorBanner, Tags, useApi } from '../../../shared/ui.tsx';
import type { Device } from '../types.ts';

const PROTOCOLS = ['syslog', 'mqtt', 'coap', 'modbus'];

export function DevicesPage({ route }: { route: Route }) {
  const gateway = route.query.get('gateway') ?? undefined;
  const protocol = route.query.get('protocol') ?? undefined;
  const devices = useApi<{ devices: Device[] }>(
    withQuery('/api/devices', { gateway, protocol, limit: 2000 }),
    30_000,
  );
  const [text, setText] = useState('');
  const needle = text.toLowerCase();
  const rows = (devices.data?.devices ?? []).filter(
    (d) =>
      !needle ||
      [d.device_id, d.name, d.host, d.protocol_id, ...d.gateways].some((v) =>
        v?.toLowerCase().includes(needle),
      ),
  );
  return (
    <section>
      <h1>Devices</h1>
      <div class="filters">
        <label>
          Find
          <input name="find" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <label>
          Gateway
          <input
            name="gateway"
            value={gateway ?? ''}
            onChange={(e) => setQuery({ gateway: e.currentTarget.value || undefined, protocol })}
          />
        </label>
        <label>
          Protocol
          <select
            name="protocol"
            value={protocol ?? ''}
            onChange={(e) => setQuery({ gateway, protocol: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {PROTOCOLS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner error={devices.error} />
      <div class="card table-wrap">
        <p class="muted">{rows.length} devices</p>
        <table>
          <thead>
            <tr>
              <th>Device</th>
              <th>Name / host</th>
              <th>Protocols</th>
              <th>Identity</th>
              <th>Gateways</th>
              <th>First seen</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.device_id}>
                <td>
                  <a href={href('search', { device_id: d.device_id })} class="mono">
                    {d.device_id}
                  </a>
                </td>
                <td>{d.name ?? d.host ?? '—'}</td>
                <td>
                  <Tags items={d.protocols} />
                </td>
                <td class="mono">{d.protocol_id ?? '—'}</td>
                <td>{d.gateways.join(', ')}</td>
                <td>{dateTime(d.first_seen)}</td>
                <td title={dateTime(d.last_seen)}>{ago(d.last_seen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

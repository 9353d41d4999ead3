/**
 * Enrichment on the SOC dashboard (issue 21): what central stored with an alert (its asset, the
 * addresses it names with location, ASN, reverse DNS and asset, and its threat-intel matches;
 * central/enrich/alert.ts), what it stored with the alert's triggering events
 * (central/enrich/annotate.ts), and the threat-intel feed status panel (`GET /api/intel/feeds`).
 * Each term links to the alerts carrying it (`#/alerts?q=geo.country:RU`) and to the events.
 */
import { ago } from '../../../shared/format.ts';
import { href } from '../../../shared/router.ts';
import { ErrorBanner, useApi } from '../../../shared/ui.tsx';
import type { Alert, SiemEvent } from '../types.ts';

interface Geo {
  ip?: string;
  country?: string;
  city?: string;
}
interface Asset {
  name?: string;
  role?: string;
  site?: string;
}
interface IntelHit {
  feed: string;
  type: string;
  indicator: string;
  field: string;
}

/** A search term, linking to the alerts and to the events that carry it. */
function Term({ term, label }: { term: string; label: string }) {
  return (
    <span class="term">
      <a href={href('alerts', { q: term })} title={`Alerts with ${term}`}>
        {label}
      </a>{' '}
      <a href={href('search', { q: term })} title={`Events with ${term}`} class="muted">
        (events)
      </a>
    </span>
  );
}

/** What central stored with the alert when it was raised; nothing for an alert without it. */
export function AlertEnrichmentCard({ enrichment }: { enrichment: Alert['enrichment'] }) {
  if (!enrichment) return null;
  const { asset, addresses, intel } = enrichment;
  if (!asset && addresses.length === 0 && intel.length === 0) return null;
  return (
    <div class="card" data-testid="alert-enrichment">
      <h2>What it names</h2>
      {asset && (
        <p data-testid="alert-asset">
          Asset: <strong>{asset.name ?? asset.device_id ?? '—'}</strong>
          {asset.role && <> · role {asset.role}</>}
          {asset.site && (
            <>
              {' '}
              · site <Term term={`asset.site:${asset.site}`} label={asset.site} />
            </>
          )}
        </p>
      )}
      {addresses.length > 0 && (
        <table data-testid="alert-addresses">
          <thead>
            <tr>
              <th>Address</th>
              <th>Seen as</th>
              <th>Location</th>
              <th>ASN</th>
              <th>Reverse DNS</th>
              <th>Asset</th>
            </tr>
          </thead>
          <tbody>
            {addresses.map((x) => (
              <tr key={x.ip}>
                <td class="mono">{x.ip}</td>
                <td>
                  {x.seen_as} ({x.ot ? 'OT, ' : ''}
                  {x.scope})
                </td>
                <td>
                  {x.country ? (
                    <Term
                      term={`geo.country:${x.country}`}
                      label={[x.country, x.region, x.city].filter(Boolean).join(' · ')}
                    />
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  {x.asn ? (
                    <Term term={`geo.asn:${x.asn}`} label={[x.asn, x.as_name].filter(Boolean).join(' ')} />
                  ) : (
                    '—'
                  )}
                </td>
                <td class="mono">{x.rdns ?? '—'}</td>
                <td>
                  {x.asset ? [x.asset.name, x.asset.role, x.asset.site].filter(Boolean).join(' · ') : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {intel.length > 0 && (
        <>
          <h3>Threat-intel matches</h3>
          <ul data-testid="alert-intel">
            {intel.map((m) => (
              <li key={`${m.feed}|${m.type}|${m.indicator}`}>
                <Term term={`intel.feed:${m.feed}`} label={m.feed} />:{' '}
                <span class="mono">
                  {m.type} {m.indicator}
                </span>{' '}
                in {m.field}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** One row per triggering event that carries enrichment; nothing when none does. */
export function EnrichmentCard({ events }: { events: SiemEvent[] }) {
  const rows = events
    .map((e) => {
      const f = (e.fields ?? {}) as Record<string, unknown>;
      return {
        id: e.id,
        geo: f.geo as Geo | undefined,
        rdns: f.rdns as { src?: string; dst?: string } | undefined,
        asset: f.asset as Asset | undefined,
        intel: (f.intel as IntelHit[] | undefined) ?? [],
      };
    })
    .filter((r) => r.geo || r.rdns || r.asset || r.intel.length > 0);
  if (rows.length === 0) return null;
  return (
    <div class="card" data-testid="enrichment">
      <h2>Enrichment</h2>
      <table>
        <thead>
          <tr>
            <th>Event</th>
            <th>Location</th>
            <th>Reverse DNS</th>
            <th>Asset</th>
            <th>Threat intel</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, 50).map((r) => (
            <tr key={r.id}>
              <td class="mono">{r.id}</td>
              <td>
                {r.geo?.country ? (
                  <a href={href('search', { q: `geo.country:${r.geo.country}` })}>
                    {[r.geo.country, r.geo.city].filter(Boolean).join(' · ')}
                  </a>
                ) : (
                  '—'
                )}
                {r.geo?.ip && <span class="mono"> ({r.geo.ip})</span>}
              </td>
              <td class="mono">{[r.rdns?.src, r.rdns?.dst].filter(Boolean).join(' → ') || '—'}</td>
              <td>
                {r.asset ? [r.asset.name, r.asset.role, r.asset.site].filter(Boolean).join(' · ') : '—'}
              </td>
              <td>
                {r.intel.length === 0
                  ? '—'
                  : r.intel.map((h) => (
                      <div key={`${h.feed}${h.indicator}${h.field}`}>
                        <a href={href('search', { q: `intel.feed:${h.feed}` })}>{h.feed}</a>{' '}
                        <span class="mono">
                          {h.type} {h.indicator}
                        </span>{' '}
                        in {h.field}
                      </div>
                    ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface FeedStatus {
  name: string;
  kind: string;
  source: string;
  indicators: number;
  last_fetch: string | null;
  last_success: string | null;
  last_error: string | null;
}

/** The threat-intel feeds: last fetch, indicator count, last error; refreshed every 30 s. */
export function FeedStatusPanel() {
  const feeds = useApi<{ feeds: FeedStatus[] }>('/api/intel/feeds', 30_000);
  return (
    <div class="card" data-testid="intel-feeds">
      <h2>Threat-intel feeds</h2>
      <ErrorBanner error={feeds.error} />
      {(feeds.data?.feeds ?? []).length === 0 ? (
        <p>No feeds configured.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Feed</th>
              <th>Kind</th>
              <th>Indicators</th>
              <th>Last fetch</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {feeds.data!.feeds.map((f) => (
              <tr key={f.name}>
                <td title={f.source}>{f.name}</td>
                <td>{f.kind}</td>
                <td>{f.indicators}</td>
                <td>{f.last_fetch ? ago(f.last_fetch) : '—'}</td>
                <td class={f.last_error ? 'error' : ''}>{f.last_error ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/**
 * A report's two text forms from its figures (data.ts): one self-contained HTML page (inline CSS
 * and SVG charts, no script, no external resource, so it shows the same in a mail client, a
 * browser and Chromium's PDF) and one CSV in long form, `section,item,metric,value`, that a
 * spreadsheet pivots. Every value from the network (device names, addresses, rule titles) is
 * escaped; CSV cells that a spreadsheet would run as a formula are prefixed with `'` (OWASP
 * "CSV injection").
 */
import { csvRecord } from '../store/archive-csv.ts';
import { type ReportData, SEVERITY_NAMES } from './data.ts';
import { localFields } from './period.ts';
import { barChart, columnChart, escapeXml as esc, SEVERITY_COLOURS, timelineChart } from './svg.ts';

const pad = (n: number) => String(n).padStart(2, '0');
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Local time labels in the report's zone: `14:00` within a day, `Mon 03-02` across days. */
function labeller(data: ReportData) {
  const tz = data.period.time_zone;
  const span = Date.parse(data.period.end) - Date.parse(data.period.start);
  return (iso: string) => {
    const f = localFields(Date.parse(iso), tz);
    if (span <= 2 * 86_400_000) return `${pad(f.hour)}:${pad(f.minute)}`;
    const weekday = WEEKDAYS[new Date(Date.UTC(f.year, f.month - 1, f.day)).getUTCDay()];
    return `${weekday} ${pad(f.month)}-${pad(f.day)}`;
  };
}

/** `2026-03-01 14:05` in the report's zone. */
function localTime(iso: string, tz: string): string {
  const f = localFields(Date.parse(iso), tz);
  return `${f.year}-${pad(f.month)}-${pad(f.day)} ${pad(f.hour)}:${pad(f.minute)}`;
}

function duration(secs: number): string {
  if (secs < 60) return `${Math.round(secs)} s`;
  if (secs < 3600) return `${Math.round(secs / 60)} min`;
  const h = Math.floor(secs / 3600);
  const m = Math.round((secs % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

function table(caption: string, head: string[], rows: Array<Array<string | number>>, numeric: number[] = []) {
  if (rows.length === 0) return `<p class="none">${esc(caption)}: none in this period.</p>`;
  const cell = (v: string | number, i: number) =>
    `<td${numeric.includes(i) ? ' class="num"' : ''}>${esc(typeof v === 'number' ? v.toLocaleString('en-US') : v)}</td>`;
  return (
    `<table><caption>${esc(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`
  );
}

export function reportTitle(data: ReportData): string {
  const kind = data.period.kind === 'daily' ? 'Daily' : data.period.kind === 'weekly' ? 'Weekly' : 'Security';
  return `${kind} report — ${data.scope.title} — ${data.period.label}`;
}

const STYLE = `
@page { size: A4; margin: 14mm; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; margin: 0 auto; max-width: 720px; padding: 16px; }
h1 { font-size: 21px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 26px 0 8px; border-bottom: 2px solid #1565c0; padding-bottom: 3px; break-after: avoid; }
h3 { font-size: 14px; margin: 16px 0 6px; break-after: avoid; }
.meta { color: #555; margin: 0 0 14px; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.tile { border: 1px solid #ccd; border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.tile b { display: block; font-size: 20px; }
.tile.warn b { color: #b71c1c; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; break-inside: auto; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid #dde; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f1f4f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 4px 0; }
.none { color: #555; font-style: italic; }
.figure { break-inside: avoid; }
footer { color: #666; font-size: 11px; margin-top: 28px; border-top: 1px solid #ccd; padding-top: 6px; }
`;

export function renderHtml(data: ReportData): string {
  const tz = data.period.time_zone;
  const at = labeller(data);
  const t = data.totals;
  const title = reportTitle(data);
  const tile = (label: string, value: string, warn = false) =>
    `<div class="tile${warn ? ' warn' : ''}"><b>${esc(value)}</b>${esc(label)}</div>`;
  const n = (v: number) => v.toLocaleString('en-US');
  const sections: string[] = [];

  sections.push(
    `<section aria-labelledby="s-summary"><h2 id="s-summary">Summary</h2><div class="tiles">` +
      tile('alerts raised', n(t.alerts), t.alerts > 0) +
      tile('events stored', n(t.events)) +
      tile('incidents opened', n(t.incidents), t.incidents > 0) +
      tile('new devices', n(t.new_devices), t.new_devices > 0) +
      tile('link outages', n(t.outages), t.outages > 0) +
      tile('events buffered at the edge', n(t.buffered_events)) +
      tile('events lost (disk cap)', n(t.evicted_events), t.evicted_events > 0) +
      `</div><p>${n(t.alerts)} alerts (${n(t.alert_hits)} detections) on ${n(t.alert_entities)} devices or hosts; ` +
      `${n(t.gateways)} gateways, down ${esc(duration(t.outage_secs))} in total.</p></section>`,
  );

  const sev = [...data.alerts_by_severity];
  sections.push(
    `<section aria-labelledby="s-alerts"><h2 id="s-alerts">Alerts</h2>` +
      `<div class="figure"><h3>By severity</h3>${barChart(
        'Alerts by severity',
        sev.map((r) => ({ label: r.name, value: r.alerts, colour: SEVERITY_COLOURS[r.severity] })),
        'alerts',
      )}${table(
        'Alerts by severity',
        ['Severity', 'Alerts', 'Detections'],
        sev.map((r) => [`${r.name} (${r.severity})`, r.alerts, r.hits]),
        [1, 2],
      )}</div>` +
      `<div class="figure"><h3>By ATT&amp;CK for ICS technique</h3>${barChart(
        'Alerts by ATT&CK technique',
        data.alerts_by_technique.map((r) => ({ label: r.technique, value: r.alerts })),
        'alerts',
      )}${table(
        'Alerts by technique',
        ['Technique', 'Alerts', 'Detections'],
        data.alerts_by_technique.map((r) => [r.technique, r.alerts, r.hits]),
        [1, 2],
      )}</div>` +
      `<div class="figure"><h3>By device or host</h3>${barChart(
        'Alerts by device or host',
        data.alerts_by_device.map((r) => ({
          label: r.entity,
          value: r.alerts,
          colour: SEVERITY_COLOURS[r.worst_severity],
        })),
        'alerts',
      )}${table(
        'Alerts by device or host',
        ['Device or host', 'Alerts', 'Detections', 'Worst severity'],
        data.alerts_by_device.map((r) => [
          r.entity,
          r.alerts,
          r.hits,
          SEVERITY_NAMES[r.worst_severity] ?? '',
        ]),
        [1, 2],
      )}</div>` +
      `<div class="figure"><h3>Over time</h3>${columnChart('Alerts raised over time', data.alerts_over_time, at, 'alerts')}</div>` +
      table(
        'Incidents opened (alerts folded by attacker)',
        ['Incident', 'Title', 'Attacker', 'Severity', 'Alerts', 'First seen', 'Status'],
        data.incidents.map((i) => [
          `#${i.id}`,
          i.title,
          i.attacker,
          SEVERITY_NAMES[i.severity] ?? String(i.severity),
          i.alert_count,
          localTime(i.first_seen, tz),
          i.status,
        ]),
        [4],
      ) +
      table(
        'Most severe alerts',
        ['Alert', 'Rule', 'Severity', 'Entity', 'Gateway', 'Count', 'First seen', 'Status'],
        data.top_alerts.map((a) => [
          `#${a.id}`,
          a.rule_title,
          SEVERITY_NAMES[a.severity] ?? String(a.severity),
          a.entity,
          a.gateway ?? '—',
          a.count,
          localTime(a.first_seen, tz),
          a.status,
        ]),
        [5],
      ) +
      `</section>`,
  );

  sections.push(
    `<section aria-labelledby="s-traffic"><h2 id="s-traffic">Traffic</h2>` +
      `<div class="figure"><h3>Events over time</h3>${columnChart('Events stored over time', data.events_over_time, at, 'events')}</div>` +
      `<div class="figure"><h3>Top talkers</h3>${barChart(
        'Top talkers by events sent',
        data.top_talkers.map((r) => ({ label: r.ip, value: r.events })),
        'events',
      )}${table(
        'Top talkers (source addresses)',
        ['Address', 'Events', 'Destinations', 'Alerts'],
        data.top_talkers.map((r) => [r.ip, r.events, r.destinations, r.alerts]),
        [1, 2, 3],
      )}</div>` +
      table(
        'Busiest devices',
        ['Device', 'Events'],
        data.top_devices.map((r) => [r.device_id, r.events]),
        [1],
      ) +
      `</section>`,
  );

  sections.push(
    `<section aria-labelledby="s-devices"><h2 id="s-devices">New devices</h2>` +
      table(
        'Devices first seen in this period',
        ['Device', 'Name', 'Protocols', 'Gateways', 'First seen'],
        data.new_devices.map((d) => [
          d.device_id,
          d.name ?? '—',
          d.protocols.join(', '),
          d.gateways.join(', '),
          localTime(d.first_seen, tz),
        ]),
      ) +
      `</section>`,
  );

  sections.push(
    `<section aria-labelledby="s-gateways"><h2 id="s-gateways">Gateways and link</h2>` +
      `<div class="figure"><h3>Link outages</h3>${timelineChart(
        'Link outages by gateway',
        data.period,
        data.gateways.map((g) => ({
          label: g.id,
          spans: data.outages
            .filter((o) => o.gateway === g.id)
            .map((o) => ({ start: o.start, end: o.restored })),
        })),
        (iso) => localTime(iso, tz),
      )}</div>` +
      table(
        'Gateway health',
        [
          'Gateway',
          'Status',
          'Last contact',
          'Events',
          'Outages',
          'Down',
          'Buffered',
          'Lost (disk cap)',
          'Refused',
          'Write errors',
          'Clock skew',
        ],
        data.gateways.map((g) => [
          g.id,
          g.status,
          g.last_seen ? localTime(g.last_seen, tz) : 'never',
          g.events,
          g.outages,
          duration(g.outage_secs),
          g.buffered_events,
          g.evicted_events,
          g.refused_events,
          g.write_errors,
          g.clock_skew_events,
        ]),
        [3, 4, 6, 7, 8, 9, 10],
      ) +
      `<div class="figure"><h3>Buffered at the edge and drained</h3>${barChart(
        'Events buffered at the edge per gateway',
        data.gateways
          .filter((g) => g.buffered_events > 0)
          .map((g) => ({ label: g.id, value: g.buffered_events })),
        'events buffered',
      )}</div>` +
      table(
        'Outages',
        ['Gateway', 'Link lost', 'Link back', 'Drained', 'Down', 'Buffered events', 'Longest wait'],
        data.outages.map((o) => [
          o.gateway,
          localTime(o.start, tz),
          localTime(o.restored, tz),
          localTime(o.drained, tz),
          duration((Date.parse(o.restored) - Date.parse(o.start)) / 1000),
          o.buffered_events,
          duration(o.max_delay_secs),
        ]),
        [5],
      ) +
      `</section>`,
  );

  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<title>${esc(title)}</title><style>${STYLE}</style></head><body><main>` +
    `<h1>${esc(title)}</h1><p class="meta">${esc(localTime(data.period.start, tz))} to ${esc(localTime(data.period.end, tz))} (${esc(tz)})` +
    `${data.scope.gateways ? ` · gateways ${esc(data.scope.gateways.join(', '))}` : ' · every gateway'}</p>` +
    sections.join('') +
    `<footer>edge-siem central · generated ${esc(localTime(data.generated_at, tz))} ${esc(tz)} · ` +
    `alerts count when first raised in the period; outages are derived from events held back at the edge.</footer>` +
    `</main></body></html>`
  );
}

/**
 * A spreadsheet must not run a cell as a formula: text starting with = + - @ (or tab/CR) gets a
 * `'`. So does text already starting with `'`, so that a reader takes off one leading `'` and has
 * the value as it was (a name `'+` is not read back as `+`).
 */
function cell(v: string | number): string {
  if (typeof v === 'number') return String(v);
  return /^['=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

export function renderCsv(data: ReportData): string {
  const rows: Array<[string, string, string, string | number]> = [];
  const add = (section: string, item: string, metric: string, value: string | number) =>
    rows.push([section, item, metric, value]);
  add('report', data.scope.name, 'scope', data.scope.title);
  add('report', data.period.kind, 'period_start', data.period.start);
  add('report', data.period.kind, 'period_end', data.period.end);
  add('report', data.period.kind, 'time_zone', data.period.time_zone);
  for (const [k, v] of Object.entries(data.totals)) add('totals', k, 'value', v);
  for (const r of data.alerts_by_severity) {
    add('alerts_by_severity', r.name, 'alerts', r.alerts);
    add('alerts_by_severity', r.name, 'detections', r.hits);
  }
  for (const r of data.alerts_by_technique) {
    add('alerts_by_technique', r.technique, 'alerts', r.alerts);
    add('alerts_by_technique', r.technique, 'detections', r.hits);
  }
  for (const r of data.alerts_by_device) {
    add('alerts_by_device', r.entity, 'alerts', r.alerts);
    add('alerts_by_device', r.entity, 'detections', r.hits);
  }
  for (const b of data.alerts_over_time) add('alerts_over_time', b.start, 'alerts', b.count);
  for (const i of data.incidents) {
    add('incidents', `#${i.id}`, 'attacker', i.attacker);
    add('incidents', `#${i.id}`, 'alerts', i.alert_count);
  }
  for (const b of data.events_over_time) add('events_over_time', b.start, 'events', b.count);
  for (const r of data.top_talkers) {
    add('top_talkers', r.ip, 'events', r.events);
    add('top_talkers', r.ip, 'destinations', r.destinations);
    add('top_talkers', r.ip, 'alerts', r.alerts);
  }
  for (const r of data.top_devices) add('top_devices', r.device_id, 'events', r.events);
  for (const d of data.new_devices) add('new_devices', d.device_id, 'first_seen', d.first_seen);
  for (const g of data.gateways) {
    for (const k of [
      'events',
      'outages',
      'outage_secs',
      'buffered_events',
      'evicted_events',
      'refused_events',
      'write_errors',
      'clock_skew_events',
    ] as const)
      add('gateways', g.id, k, g[k]);
    add('gateways', g.id, 'status', g.status);
  }
  for (const o of data.outages) {
    const item = `${o.gateway}@${o.start}`;
    add('outages', item, 'restored', o.restored);
    add('outages', item, 'drained', o.drained);
    add('outages', item, 'buffered_events', o.buffered_events);
    add('outages', item, 'max_delay_secs', o.max_delay_secs);
  }
  return (
    csvRecord(['section', 'item', 'metric', 'value']) +
    rows.map((r) => csvRecord(r.map((v) => cell(v)))).join('')
  );
}

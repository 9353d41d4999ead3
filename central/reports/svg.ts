/**
 * Server-rendered SVG charts for the reports: horizontal bars (alerts by technique, severity,
 * device; top talkers), columns over time (events, alerts) and a timeline of link outages per
 * gateway. No script: they render in any mail client that shows HTML, in a browser with
 * JavaScript off, and in Chromium's PDF. Accessible: each is `role="img"` labelled by its own
 * `<title>` and a `<desc>` that states the figures in words; the report puts the same figures in
 * a table beside it. Every text is escaped.
 */

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Colours of the syslog severities 0–7 (emergency … debug), distinguishable in grey print too. */
export const SEVERITY_COLOURS = [
  '#7f0000',
  '#b71c1c',
  '#d84315',
  '#ef6c00',
  '#f9a825',
  '#1565c0',
  '#546e7a',
  '#90a4ae',
];
const ACCENT = '#1565c0';

let counter = 0;
/** A document-unique id prefix for title/desc references (several charts share one page). */
function nextId(prefix: string): string {
  counter = (counter + 1) % 1_000_000;
  return `${prefix}-${counter}`;
}

function frame(
  kind: string,
  title: string,
  desc: string,
  width: number,
  height: number,
  body: string,
): string {
  const id = nextId(kind);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="${id}-t ${id}-d" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" class="chart" ` +
    `font-family="system-ui, sans-serif" font-size="12">` +
    `<title id="${id}-t">${escapeXml(title)}</title><desc id="${id}-d">${escapeXml(desc)}</desc>${body}</svg>`
  );
}

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
}

export interface Bar {
  label: string;
  value: number;
  colour?: string;
}

/** Horizontal bars, longest first as given; an empty list says so. */
export function barChart(title: string, bars: Bar[], unit: string, width = 640): string {
  const rowH = 22;
  const labelW = 200;
  const valueW = 70;
  const height = Math.max(1, bars.length) * rowH + 8;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const desc =
    bars.length === 0
      ? `No ${unit}.`
      : bars.map((b) => `${b.label}: ${fmt(b.value)} ${unit}`).join('; ') + '.';
  if (bars.length === 0) {
    return frame('bar', title, desc, width, 30, `<text x="4" y="20" fill="#555">None in this period.</text>`);
  }
  const barW = width - labelW - valueW;
  const body = bars
    .map((b, i) => {
      const y = 4 + i * rowH;
      const w = Math.max(b.value > 0 ? 2 : 0, Math.round((b.value / max) * barW));
      const label = b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label;
      return (
        `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${escapeXml(label)}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 7}" fill="${b.colour ?? ACCENT}" rx="2"/>` +
        `<text x="${labelW + w + 5}" y="${y + 15}">${fmt(b.value)}</text>`
      );
    })
    .join('');
  return frame('bar', title, desc, width, height, body);
}

/** Columns over time with a few axis labels; `label` names a bucket start for the axis and desc. */
export function columnChart(
  title: string,
  buckets: Array<{ start: string; count: number }>,
  label: (start: string) => string,
  unit: string,
  width = 640,
): string {
  const height = 160;
  const left = 48;
  const bottom = 22;
  const plotW = width - left - 8;
  const plotH = height - bottom - 10;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const peak = buckets.reduce((p, b) => (b.count > p.count ? b : p), buckets[0] ?? { start: '', count: 0 });
  const desc =
    total === 0
      ? `No ${unit} in this period.`
      : `${fmt(total)} ${unit} in ${buckets.length} intervals; the most, ${fmt(peak.count)}, at ${label(peak.start)}.`;
  const colW = plotW / Math.max(1, buckets.length);
  const cols = buckets
    .map((b, i) => {
      const h = Math.round((b.count / max) * plotH);
      const x = left + i * colW;
      return `<rect x="${x.toFixed(1)}" y="${10 + plotH - h}" width="${Math.max(1, colW - 1).toFixed(1)}" height="${h}" fill="${ACCENT}"><title>${escapeXml(`${label(b.start)}: ${fmt(b.count)}`)}</title></rect>`;
    })
    .join('');
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  const ticks = buckets
    .map((b, i) =>
      i % every === 0
        ? `<text x="${(left + i * colW).toFixed(1)}" y="${height - 6}" fill="#555">${escapeXml(label(b.start))}</text>`
        : '',
    )
    .join('');
  const axis =
    `<line x1="${left}" y1="${10 + plotH}" x2="${width - 8}" y2="${10 + plotH}" stroke="#999"/>` +
    `<text x="${left - 6}" y="16" text-anchor="end" fill="#555">${fmt(max)}</text>` +
    `<text x="${left - 6}" y="${10 + plotH}" text-anchor="end" fill="#555">0</text>`;
  return frame('col', title, desc, width, height, axis + cols + ticks);
}

/** One lane per gateway over the period, each outage a red span. */
export function timelineChart(
  title: string,
  period: { start: string; end: string },
  lanes: Array<{ label: string; spans: Array<{ start: string; end: string }> }>,
  label: (iso: string) => string,
  width = 640,
): string {
  const laneH = 22;
  const labelW = 140;
  const height = Math.max(1, lanes.length) * laneH + 26;
  const t0 = Date.parse(period.start);
  const t1 = Date.parse(period.end);
  const plotW = width - labelW - 8;
  const x = (iso: string) =>
    labelW + ((Math.min(t1, Math.max(t0, Date.parse(iso))) - t0) / (t1 - t0)) * plotW;
  const spans = lanes.flatMap((l) => l.spans.map((s) => ({ lane: l.label, ...s })));
  const desc =
    spans.length === 0
      ? 'No link outage in this period.'
      : spans.map((s) => `${s.lane}: down from ${label(s.start)} to ${label(s.end)}`).join('; ') + '.';
  const body = lanes
    .map((l, i) => {
      const y = 4 + i * laneH;
      return (
        `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${escapeXml(l.label)}</text>` +
        `<rect x="${labelW}" y="${y + 4}" width="${plotW}" height="${laneH - 8}" fill="#e8f5e9"/>` +
        l.spans
          .map((s) => {
            const a = x(s.start);
            const w = Math.max(2, x(s.end) - a);
            return `<rect x="${a.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${laneH - 8}" fill="#c62828"><title>${escapeXml(`${label(s.start)} – ${label(s.end)}`)}</title></rect>`;
          })
          .join('')
      );
    })
    .join('');
  const axisY = Math.max(1, lanes.length) * laneH + 20;
  const axis =
    `<text x="${labelW}" y="${axisY}" fill="#555">${escapeXml(label(period.start))}</text>` +
    `<text x="${width - 8}" y="${axisY}" text-anchor="end" fill="#555">${escapeXml(label(period.end))}</text>`;
  return frame('timeline', title, desc, width, height, body + axis);
}

/**
 * The soak's report: a text summary for the terminal (per-sample RSS and CPU of each process,
 * events sent versus stored per stream, the gateway's sequence, alerts per attack), and the same
 * as one self-contained HTML file with two SVG line charts (RSS and CPU over time, restarts and
 * attacks marked) and no external asset, plus the raw figures as JSON.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fmt, type SoakReport } from './run-soak.ts';

const n = (x: number) => x.toLocaleString('en-US');

function processNames(r: SoakReport): string[] {
  const names = new Set<string>();
  for (const s of r.samples) for (const k of Object.keys(s.procs)) names.add(k);
  return [...names];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function sections(r: SoakReport) {
  const names = processNames(r);
  const procRows = r.samples.map((s) => [
    fmt(s.atSecs),
    ...names.map((k) => {
      const p = s.procs[k];
      return p ? `${p.rssMb.toFixed(0)} MB ${p.cpuPct.toFixed(0)}%` : 'down';
    }),
    s.queued === undefined ? '-' : n(s.queued),
    s.linkConnected === undefined ? '-' : s.linkConnected ? 'up' : 'down',
    s.sent === undefined ? '-' : n(s.sent),
  ]);
  const streamRows = r.streams.map((s) => [
    s.stream,
    n(s.connections),
    n(s.sent),
    n(s.stored),
    n(s.duplicates),
    n(s.lost),
    s.stream === 'udp' ? n(s.udpMissing ?? 0) : n(s.atKill),
    note(s, r),
  ]);
  const attackRows = r.attacks.map((a) => [
    fmt(a.atSecs),
    a.name,
    (a.error ? `failed: ${a.error}` : a.expects.map((t) => `${t}: ${a.alerts[t] ?? 0}`).join('; ')) +
      (a.retried ? ` (first attempt failed: ${a.retried})` : ''),
    !a.error && a.expects.every((t) => a.alerts[t]) ? 'alerted' : 'NO ALERT',
  ]);
  return { names, procRows, streamRows, attackRows };
}

function note(s: SoakReport['streams'][number], r: SoakReport): string {
  switch (s.stream) {
    case 'tcp':
      return 'no ack: only a tail of a connection the SIGKILL cut may be missing';
    case 'udp':
      return `no guarantee; ${n(s.udpSentWhileDown ?? 0)} sent from the kill notice to the restart; the gateway counted ${n(r.udpReceived)} received, ${n(r.udpReceivedAfterRestart)} after the restart, all of which must be stored (${n(s.udpStoredAfterKill ?? 0)} of the load's sent after the kill notice and ${n(r.udpPlantAfterRestart)} of the switch's are)`;
    case 'mqtt':
      return `QoS 1: acknowledged = durable; ${n(s.unacked ?? 0)} never acknowledged (${n(s.unackedStored ?? 0)} of them stored)`;
    default:
      return `request events; only a tail of a connection the SIGKILL cut may be missing; ${n(s.answered ?? 0)} answered`;
  }
}

export function renderText(r: SoakReport): string {
  const { names, procRows, streamRows, attackRows } = sections(r);
  const o = r.options;
  const seqOk = r.sequence.stored === r.sequence.max && r.sequence.distinct === r.sequence.stored;
  const behind = Object.entries(r.behind)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
  return [
    `Soak: ${o.minutes} min at ${n(o.rate)} events/s, central on ${o.store}, gateway from ${o.bundle ? 'the bundle' : 'the sources (tsx)'}; started ${r.startedAt}, ran ${fmt(r.durationSecs)}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at the end`,
    '',
    `Restarts and events: ${r.markers.map((m) => `${fmt(m.atSecs)} ${m.what}`).join(' | ')}`,
    '',
    'RSS and CPU (share of one core since the previous sample) per process:',
    table(['time', ...names, 'queued', 'link', 'sent'], procRows),
    '',
    'Events sent versus stored at central:',
    table(
      ['stream', 'conns', 'sent', 'stored', 'twice', 'lost', 'at kill / udp', 'what the protocol promises'],
      streamRows,
    ),
    behind
      ? `Not sent in time (the generator's bucket overflowed; never sent, not counted as sent): ${behind}`
      : '',
    `Gateway sequence at central: ${n(r.sequence.stored)} events, ${n(r.sequence.distinct)} distinct, max ${n(r.sequence.max)}: ${seqOk ? 'whole (1..N once each)' : 'GAP OR REPEAT'}; drain after the load ${r.drainSecs.toFixed(1)} s`,
    '',
    'Attacks and the alert events central stored for them:',
    table(['time', 'attack', 'expected alerts (alert events)', 'result'], attackRows),
    '',
    `Other alerts: ${
      Object.entries(r.otherAlerts)
        .map(([t, c]) => `${t}: ${c}`)
        .join('; ') || 'none'
    }`,
    `Central's alert queue: ${r.queue.map((q) => `${q.title}: ${q.alerts} (${q.hits} hits)`).join('; ') || 'empty'}`,
    '',
    r.ok ? 'RESULT: PASS' : `RESULT: FAIL\n${r.failures.map((f) => `  - ${f}`).join('\n')}`,
  ]
    .filter((l, i, a) => !(l === '' && a[i - 1] === ''))
    .join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function chart(r: SoakReport, names: string[], metric: 'rssMb' | 'cpuPct', title: string): string {
  const W = 900;
  const H = 300;
  const L = 60;
  const B = 40;
  const T = 30;
  const R = 170;
  const xMax = Math.max(60, r.durationSecs);
  const values = r.samples.flatMap((s) => names.map((k) => s.procs[k]?.[metric] ?? 0));
  const yMax = Math.max(1, ...values) * 1.1;
  const x = (secs: number) => L + ((W - L - R) * secs) / xMax;
  const y = (v: number) => H - B - ((H - B - T) * v) / yMax;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
  ];
  for (let k = 0; k <= 4; k += 1) {
    const v = (yMax * k) / 4;
    parts.push(
      `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`,
    );
  }
  const step = xMax > 1200 ? 600 : xMax > 300 ? 60 : 30;
  for (let s = 0; s <= xMax; s += step)
    parts.push(`<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle">${fmt(s)}</text>`);
  for (const m of r.markers)
    parts.push(
      `<line x1="${x(m.atSecs)}" y1="${T}" x2="${x(m.atSecs)}" y2="${H - B}" stroke="#999" stroke-dasharray="4 3"><title>${esc(`${fmt(m.atSecs)} ${m.what}`)}</title></line>`,
    );
  for (const a of r.attacks)
    parts.push(
      `<path d="M${x(a.atSecs)},${H - B} l-4,8 h8 z" fill="#c00"><title>${esc(`${fmt(a.atSecs)} attack ${a.name}`)}</title></path>`,
    );
  names.forEach((k, i) => {
    const color = COLORS[i % COLORS.length]!;
    // A gap in the line where the process was down.
    let d = '';
    let pen = false;
    for (const s of r.samples) {
      const p = s.procs[k];
      if (!p) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(s.atSecs).toFixed(1)},${y(p[metric]).toFixed(1)} `;
      pen = true;
    }
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`,
      `<rect x="${W - R + 12}" y="${T + i * 18}" width="12" height="3" fill="${color}"/>`,
      `<text x="${W - R + 30}" y="${T + i * 18 + 5}">${esc(k)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function htmlTable(header: string[], rows: string[][]): string {
  return `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

export function renderHtml(r: SoakReport): string {
  const { names, procRows, streamRows, attackRows } = sections(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edge-siem soak ${esc(r.startedAt)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.fail{color:#c00;font-weight:bold}.pass{color:#080;font-weight:bold}pre{white-space:pre-wrap}</style></head>
<body><h1>Soak: ${r.options.minutes} min at ${n(r.options.rate)} events/s (central on ${esc(r.options.store)})</h1>
<p class="${r.ok ? 'pass' : 'fail'}">${r.ok ? 'PASS' : `FAIL: ${esc(r.failures.join('; '))}`}</p>
<p>Dashed lines: restarts and the drain (hover for what); red marks: attacks.</p>
${chart(r, names, 'rssMb', 'RSS (MB)')}
${chart(r, names, 'cpuPct', 'CPU (% of one core since the previous sample)')}
<h2>Events sent versus stored</h2>
${htmlTable(['stream', 'conns', 'sent', 'stored', 'twice', 'lost', 'at kill / udp missing', 'what the protocol promises'], streamRows)}
<h2>Attacks</h2>
${htmlTable(['time', 'attack', 'expected alerts (alert events)', 'result'], attackRows)}
<h2>Samples</h2>
${htmlTable(['time', ...names, 'queued', 'link', 'sent'], procRows)}
<h2>Everything</h2><pre>${esc(renderText(r))}</pre>
</body></html>
`;
}

export function writeReport(r: SoakReport, dir: string): string[] {
  const files = [
    path.join(dir, 'soak-report.txt'),
    path.join(dir, 'soak-report.html'),
    path.join(dir, 'soak-report.json'),
  ];
  writeFileSync(files[0]!, `${renderText(r)}\n`);
  writeFileSync(files[1]!, renderHtml(r));
  writeFileSync(files[2]!, `${JSON.stringify(r, null, 2)}\n`);
  return files;
}

/**
 * The benchmark report (issue 10): one JSON document (its schema is `benchReportSchema`, checked
 * by tests/bench/bench-quick-N.test.ts), the same as a Markdown table, and SVG bar charts drawn by
 * hand (no dependency): one per group of figures that share a `chart` id (e.g. events/s of the
 * gateway, rsyslog (a) and rsyslog (b)), and an overview of every other figure next to its peer.
 */
import { z } from 'zod';
import type { BenchFigure } from './types.ts';

const figureSchema = z.strictObject({
  name: z.string().min(1),
  value: z.number().finite(),
  unit: z.string().min(1),
  peer: z.strictObject({ name: z.string().min(1), value: z.number().finite() }).optional(),
  target: z
    .strictObject({
      value: z.number().finite(),
      better: z.enum(['higher', 'lower']),
      issue: z.number().int().positive().optional(),
    })
    .nullable(),
  /** Whether the target is met; null when the figure has no target (context, or a peer only). */
  met: z.boolean().nullable(),
  note: z.string().optional(),
  chart: z.strictObject({ id: z.string(), title: z.string(), series: z.string() }).optional(),
});

export const benchReportSchema = z.strictObject({
  schema: z.literal(1),
  date: z.iso.datetime(),
  quick: z.boolean(),
  machine: z.strictObject({
    cpus: z.number().int().positive(),
    /** 1-minute load average when the run started and when it ended: other work on the machine. */
    loadavg: z.tuple([z.number(), z.number()]),
    node: z.string(),
  }),
  sections: z.array(
    z.strictObject({
      title: z.string().min(1),
      file: z.string().regex(/\.bench\.ts$/),
      seconds: z.number().nonnegative(),
      figures: z.array(figureSchema).min(1),
    }),
  ),
  failed: z.array(z.strictObject({ file: z.string(), error: z.string() })),
  charts: z.array(z.string().regex(/\.svg$/)),
});

export type BenchReport = z.infer<typeof benchReportSchema>;
export type ReportFigure = z.infer<typeof figureSchema>;

export function toReportFigure(f: BenchFigure): ReportFigure {
  const met = f.target
    ? f.target.better === 'higher'
      ? f.value >= f.target.value
      : f.value <= f.target.value
    : null;
  return { ...f, target: f.target ?? null, met };
}

export const fmt = (n: number): string =>
  Math.abs(n) >= 100 || n === 0 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderMarkdown(report: BenchReport): string {
  const { machine } = report;
  const lines = [
    `# Benchmark report${report.quick ? ' (quick run)' : ''}`,
    '',
    `${report.date}, ${machine.cpus} cores, Node ${machine.node}; 1-minute load average ${machine.loadavg[0].toFixed(1)} at the start, ${machine.loadavg[1].toFixed(1)} at the end${machine.loadavg[0] > machine.cpus * 0.5 ? ' (other work was running: treat the figures as measured under load)' : ''}.`,
    '',
    '| benchmark | figure | value | peer (same run) | target (issue) | verdict |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of report.sections) {
    for (const f of s.figures) {
      const peer = f.peer
        ? `${f.peer.name}: ${fmt(f.peer.value)} ${f.unit}${f.peer.value !== 0 ? ` (${(f.value / f.peer.value).toFixed(2)}×)` : ''}`
        : '';
      const target = f.target
        ? `${f.target.better === 'higher' ? '≥' : '≤'} ${fmt(f.target.value)} ${f.unit}${f.target.issue ? ` (#${f.target.issue})` : ''}`
        : 'none';
      const verdict = f.met === null ? '—' : f.met ? 'met' : '**missed**';
      lines.push(
        `| ${cell(s.title)} | ${cell(f.name)}${f.note ? ` (${cell(f.note)})` : ''} | ${fmt(f.value)} ${f.unit} | ${cell(peer)} | ${target} | ${verdict} |`,
      );
    }
  }
  for (const f of report.failed) lines.push('', `**${f.file} failed:** ${f.error}`);
  if (report.charts.length > 0) lines.push('', ...report.charts.map((c) => `![${c}](${c})`));
  return `${lines.join('\n')}\n`;
}

const xml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

interface Bar {
  label: string;
  value: number;
  unit: string;
  /** Fraction of the row's width, 0..1. */
  share: number;
  ours: boolean;
}

/** A horizontal bar chart: one row per bar, the label left, the value right of the bar. */
function barChart(title: string, rows: Array<{ heading?: string; bars: Bar[] }>): string {
  const width = 760;
  const labelWidth = 300;
  const barMax = width - labelWidth - 130;
  const out: string[] = [];
  let y = 40;
  for (const row of rows) {
    if (row.heading) {
      out.push(`<text x="10" y="${y + 12}" font-weight="bold">${xml(row.heading)}</text>`);
      y += 20;
    }
    for (const bar of row.bars) {
      const w = Math.max(1, Math.round(bar.share * barMax));
      out.push(
        `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${xml(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${w}" height="18" fill="${bar.ours ? '#2b6cb0' : '#a0aec0'}"/>`,
        `<text x="${labelWidth + w + 6}" y="${y + 14}">${xml(`${fmt(bar.value)} ${bar.unit}`)}</text>`,
      );
      y += 24;
    }
    y += 8;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${xml(title)}</text>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

/** File name → SVG text for every chart the report's figures ask for. */
export function renderCharts(report: Omit<BenchReport, 'charts'>): Map<string, string> {
  const charts = new Map<string, string>();
  const groups = new Map<string, { title: string; figures: ReportFigure[] }>();
  const paired: Array<{ section: string; f: ReportFigure }> = [];
  for (const s of report.sections)
    for (const f of s.figures) {
      if (f.chart) {
        const g = groups.get(f.chart.id) ?? { title: f.chart.title, figures: [] };
        g.figures.push(f);
        groups.set(f.chart.id, g);
      } else if (f.peer) paired.push({ section: s.title, f });
    }
  for (const [id, g] of groups) {
    const max = Math.max(...g.figures.map((f) => f.value), Number.MIN_VALUE);
    const bars = g.figures.map((f) => ({
      label: f.chart!.series,
      value: f.value,
      unit: f.unit,
      share: f.value / max,
      ours: !/rsyslog|mosquitto|aedes|raw/i.test(f.chart!.series),
    }));
    charts.set(`${id}.svg`, barChart(g.title, [{ bars }]));
  }
  if (paired.length > 0) {
    const rows = paired.map(({ section, f }) => {
      const max = Math.max(f.value, f.peer!.value, Number.MIN_VALUE);
      return {
        heading: `${section}: ${f.name}`.slice(0, 110),
        bars: [
          { label: 'edge-siem', value: f.value, unit: f.unit, share: f.value / max, ours: true },
          {
            label: f.peer!.name.slice(0, 45),
            value: f.peer!.value,
            unit: f.unit,
            share: f.peer!.value / max,
            ours: false,
          },
        ],
      };
    });
    charts.set('peers.svg', barChart('Each figure next to its peer measured in the same run', rows));
  }
  return charts;
}

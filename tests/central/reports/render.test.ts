/**
 * The report's text forms as properties over hostile names (device ids, addresses, rule titles
 * come from the network): the CSV always parses back into four-field records whose values are the
 * originals, with a `'` before anything a spreadsheet would run as a formula; the HTML never
 * carries a tag, attribute or script from the data, every chart is well-formed SVG with its title
 * and description, and the structure (sections, charts, tables) does not depend on the names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ReportData } from '../../../central/reports/data.ts';
import { renderCsv, renderHtml } from '../../../central/reports/render.ts';
import { parseCsv } from '../../../central/store/archive-csv.ts';

const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    '=HYPERLINK("http://evil")',
    '+cmd|calc',
    '-1+1',
    '@SUM(A1)',
    'a,"b"\nc',
    "'quoted'",
    "'+1",
    ']]></desc><script>x</script>',
  ),
);

function data(names: string[]): ReportData {
  const n = (i: number) => names[i % names.length] ?? 'x';
  const start = '2026-03-01T00:00:00.000Z';
  const end = '2026-03-02T00:00:00.000Z';
  return {
    scope: { name: 'north', title: n(0), gateways: [n(1)] },
    period: { kind: 'daily', start, end, time_zone: 'UTC', label: '2026-03-01' },
    generated_at: end,
    totals: {
      alerts: 2,
      alert_hits: 3,
      alert_entities: 1,
      events: 4,
      new_devices: 1,
      gateways: 1,
      incidents: 1,
      outages: 1,
      outage_secs: 60,
      buffered_events: 2,
      evicted_events: 0,
    },
    alerts_by_severity: [{ severity: 2, name: 'critical', alerts: 2, hits: 3 }],
    alerts_by_technique: [{ technique: n(2), alerts: 2, hits: 3 }],
    alerts_by_device: [{ entity: n(3), alerts: 2, hits: 3, worst_severity: 2 }],
    alerts_over_time: [{ start, count: 2 }],
    top_alerts: [
      {
        id: 1,
        rule_title: n(4),
        severity: 2,
        entity: n(3),
        gateway: n(1),
        count: 3,
        first_seen: start,
        status: 'new',
      },
    ],
    events_over_time: [{ start, count: 4 }],
    incidents: [
      { id: 7, title: n(4), attacker: n(5), severity: 2, alert_count: 2, status: 'new', first_seen: start },
    ],
    top_talkers: [{ ip: n(5), events: 4, destinations: 1, alerts: 1 }],
    top_devices: [{ device_id: n(6), events: 4 }],
    new_devices: [{ device_id: n(7), name: n(8), protocols: [n(9)], gateways: [n(1)], first_seen: start }],
    gateways: [
      {
        id: n(1),
        status: 'active',
        last_seen: start,
        events: 4,
        health_events: 0,
        evicted_events: 0,
        refused_events: 0,
        write_errors: 0,
        clock_skew_events: 0,
        outages: 1,
        outage_secs: 60,
        buffered_events: 2,
        max_delay_secs: 60,
      },
    ],
    outages: [
      {
        gateway: n(1),
        start,
        restored: '2026-03-01T00:01:00.000Z',
        drained: '2026-03-01T00:01:00.000Z',
        buffered_events: 2,
        max_delay_secs: 60,
      },
    ],
  };
}

async function records(text: string): Promise<Array<(string | null)[]>> {
  const out: Array<(string | null)[]> = [];
  for await (const r of parseCsv(
    (async function* () {
      yield text;
    })(),
  ))
    out.push(r);
  return out;
}

/** A cell's value as given: the renderer prefixes `'` to formulas and to text starting with `'`. */
const unformula = (v: string) => (v.startsWith("'") ? v.slice(1) : v);

describe('report rendering with hostile names', () => {
  it('CSV: four fields a record, values back as given, formulas defused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 10, maxLength: 10 }), async (names) => {
        const rows = await records(renderCsv(data(names)));
        assert.deepEqual(rows[0], ['section', 'item', 'metric', 'value']);
        for (const r of rows) {
          assert.equal(r.length, 4);
          for (const v of r) assert.ok(v === null || !/^[=+\-@\t\r]/.test(v), `formula cell ${v}`);
        }
        const talker = rows.find((r) => r[0] === 'top_talkers' && r[2] === 'events')!;
        assert.equal(unformula(talker[1] ?? ''), names[5]);
        const device = rows.find((r) => r[0] === 'top_devices')!;
        assert.equal(unformula(device[1] ?? ''), names[6]);
      }),
      { numRuns: 200 },
    );
  });

  it('HTML: no markup from the data, well-formed charts, the same structure whatever the names', () => {
    const shape = (html: string) =>
      (html.match(/<\/?(section|svg|table|h[123]|title|desc)\b/g) ?? []).join(' ');
    const reference = shape(renderHtml(data(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'])));
    fc.assert(
      fc.property(fc.array(hostile, { minLength: 10, maxLength: 10 }), (names) => {
        const html = renderHtml(data(names));
        assert.doesNotMatch(html, /<script|<img|<\/desc><script/i);
        assert.equal(shape(html), reference);
        for (const svg of html.match(/<svg[\s\S]*?<\/svg>/g) ?? []) {
          assert.match(svg, /^<svg [^>]*role="img" aria-labelledby="([\w-]+) ([\w-]+)"/);
          assert.match(svg, /<title id="[\w-]+">[^<]*<\/title><desc id="[\w-]+">[^<]*<\/desc>/);
        }
      }),
      { numRuns: 200 },
    );
  });
});

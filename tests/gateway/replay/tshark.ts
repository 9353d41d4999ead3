/**
 * Compares `replay` output with tshark's per-frame reading of the same capture
 * (`expected-tshark/*.modbus.csv` in ../shared/data): for every frame tshark decoded as Modbus,
 * the event of that frame must have the same transaction id, unit, function code, exception
 * code, and (where tshark shows them) address, quantity and register values.
 */
import { readFileSync } from 'node:fs';
import type { Event } from '../../../protocols/event/schema.ts';
import { replayFiles } from '../../../gateway/replay/index.ts';
import { parseCsv } from '../../support/csv.ts';

export function readCsv(file: string): Array<Record<string, string>> {
  return parseCsv(readFileSync(file, 'utf8'));
}

export async function replayEvents(file: string, options: { modbusPorts?: number[] } = {}): Promise<Event[]> {
  const events: Event[] = [];
  await replayFiles([file], { write: (line) => events.push(JSON.parse(line) as Event), ...options });
  return events;
}

const list = (s: string | undefined) => (s ? s.split(';').map(Number) : []);

/** Which values tshark shows for a PDU: those the PDU itself carries (Application Protocol §6). */
const CARRIES = {
  address: { request: [1, 2, 3, 4, 5, 6, 15, 16, 22, 24], response: [5, 6, 15, 16, 22] },
  words: { request: [3, 4, 16], response: [16] },
  bits: { request: [1, 2, 15], response: [15] },
  registers: { request: [16], response: [3, 4] },
};

function carries(what: keyof typeof CARRIES, e: Event): boolean {
  const f = e.fields;
  if (f.exception_code !== undefined) return false;
  return CARRIES[what][f.direction as 'request' | 'response'].includes(f.function_code as number);
}

/**
 * Mismatches between tshark's rows and the events, as readable lines (empty when all agree).
 * A frame carrying several ADUs has `;`-joined values in tshark's row: one per ADU for the MBAP
 * fields, and the concatenation over the ADUs for the optional ones.
 */
export function compareWithTshark(rows: Array<Record<string, string>>, events: Event[]): string[] {
  const byFrame = new Map<number, Event[]>();
  for (const e of events) {
    if (e.source !== 'modbus' || e.action === 'modbus.malformed') continue;
    const f = e.fields.frame as number;
    byFrame.set(f, [...(byFrame.get(f) ?? []), e]);
  }
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const row of rows) {
    const frame = Number(row['frame.number']);
    seen.add(frame);
    const found = byFrame.get(frame) ?? [];
    const tids = list(row['mbtcp.trans_id']);
    if (found.length !== tids.length) {
      problems.push(`frame ${frame}: ${found.length} Modbus events, tshark has ${tids.length} ADUs`);
      continue;
    }
    const got = (pick: (e: Event) => unknown, only: (e: Event) => boolean = () => true) =>
      found
        .filter(only)
        .flatMap((e) => {
          const v = pick(e);
          return v === undefined ? [] : Array.isArray(v) ? v : [v];
        })
        .join(';');
    const want: Array<[string, string, string]> = [
      ['transaction_id', got((e) => e.fields.transaction_id), row['mbtcp.trans_id']!],
      ['unit_id', got((e) => e.fields.unit_id), row['mbtcp.unit_id']!],
      ['function_code', got((e) => e.fields.function_code), row['modbus.func_code']!],
      ['exception_code', got((e) => e.fields.exception_code), row['modbus.exception_code']!],
      ['sub_function', got((e) => e.fields.sub_function), row['modbus.diagnostic_code']!],
      ['mei_type', got((e) => e.fields.mei_type), row['modbus.mei']!],
      [
        'address',
        got(
          (e) => e.fields.address,
          (e) => carries('address', e),
        ),
        row['modbus.reference_num']!,
      ],
      [
        'quantity (words)',
        got(
          (e) => (e.fields.function_code === 24 ? e.fields.fifo_count : e.fields.quantity),
          (e) => carries('words', e) || (e.fields.function_code === 24 && e.fields.direction === 'response'),
        ),
        row['modbus.word_cnt']!,
      ],
      [
        'quantity (bits)',
        got(
          (e) => e.fields.quantity,
          (e) => carries('bits', e),
        ),
        row['modbus.bit_cnt']!,
      ],
      [
        'values',
        got(
          (e) => e.fields.values,
          (e) => carries('registers', e),
        ),
        row['modbus.regval_uint16']!.replace(/;$/, ''),
      ],
    ];
    for (const [name, mine, theirs] of want)
      if (mine !== theirs) problems.push(`frame ${frame} ${name}: got "${mine}", tshark "${theirs}"`);
  }
  for (const [frame, found] of byFrame)
    if (!seen.has(frame)) problems.push(`frame ${frame}: ${found[0]!.action}, tshark saw no Modbus`);
  return problems;
}

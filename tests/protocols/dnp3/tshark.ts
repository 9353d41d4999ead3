/**
 * Our reading of each captured frame in the shape of tshark 4.0.17's DNP3 field dump
 * (`expected-tshark/<trace>.dnp3.csv`): link, transport and application fields, several link frames
 * of one packet joined with `,` as tshark joins them, so one frame compares as one row.
 */
import type { DecodedItem } from './traces.ts';

/** The tshark columns we compare; the rest (time, IP, ports) are the capture's, not the codec's. */
export const COMPARED = [
  'dnp3.src',
  'dnp3.dst',
  'dnp3.len',
  'dnp3.ctl.dir',
  'dnp3.ctl.prm',
  'dnp3.ctl.prifunc',
  'dnp3.ctl.secfunc',
  'dnp3.tr.fir',
  'dnp3.tr.fin',
  'dnp3.tr.seq',
  'dnp3.al.fir',
  'dnp3.al.fin',
  'dnp3.al.seq',
  'dnp3.al.func',
  'dnp3.al.iin',
  'dnp3.al.obj',
  'dnp3.al.objq.prefix',
  'dnp3.al.objq.range',
  'dnp3.al.range.start',
  'dnp3.al.range.stop',
  'dnp3.al.range.quantity',
] as const;

const b = (v: boolean) => (v ? '1' : '0');
const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

/** Frame number → our row. */
export function ourRows(items: DecodedItem[]): Map<number, Record<string, string>> {
  const cols = new Map<number, Record<string, string[]>>();
  const row = (frame: number) => {
    let r = cols.get(frame);
    if (!r) cols.set(frame, (r = Object.fromEntries(COMPARED.map((c) => [c, [] as string[]]))));
    return r;
  };
  for (const { item } of items) {
    if (item.type === 'link') {
      const r = row(item.meta.frame);
      const l = item.link;
      r['dnp3.src']!.push(String(l.source));
      r['dnp3.dst']!.push(String(l.destination));
      r['dnp3.len']!.push(String(l.length));
      r['dnp3.ctl.dir']!.push(b(l.dir));
      r['dnp3.ctl.prm']!.push(b(l.prm));
      r[l.prm ? 'dnp3.ctl.prifunc' : 'dnp3.ctl.secfunc']!.push(String(l.function));
      if (item.transport) {
        r['dnp3.tr.fir']!.push(b(item.transport.fir));
        r['dnp3.tr.fin']!.push(b(item.transport.fin));
        r['dnp3.tr.seq']!.push(String(item.transport.seq));
      }
    } else if (item.type === 'apdu') {
      const r = row(item.meta.frame);
      const a = item.apdu;
      r['dnp3.al.fir']!.push(b(a.control.fir));
      r['dnp3.al.fin']!.push(b(a.control.fin));
      r['dnp3.al.seq']!.push(String(a.control.seq));
      r['dnp3.al.func']!.push(String(a.function));
      if (a.iin !== undefined) r['dnp3.al.iin']!.push(hex4(a.iin));
      for (const o of a.objects) {
        r['dnp3.al.obj']!.push(hex4(o.group * 256 + o.variation));
        r['dnp3.al.objq.prefix']!.push(String(o.prefixCode));
        r['dnp3.al.objq.range']!.push(String(o.rangeCode));
        if (o.start !== undefined) {
          r['dnp3.al.range.start']!.push(String(o.start));
          r['dnp3.al.range.stop']!.push(String(o.stop));
        } else if (o.count !== undefined) r['dnp3.al.range.quantity']!.push(String(o.count));
      }
    }
  }
  const out = new Map<number, Record<string, string>>();
  for (const [frame, r] of cols)
    out.set(frame, Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.join(',')])));
  return out;
}

/** Fields where our row differs from tshark's, `field: ours ≠ theirs`. */
export function differences(
  ours: Record<string, string> | undefined,
  theirs: Record<string, string>,
): string[] {
  const out: string[] = [];
  for (const c of COMPARED) {
    const mine = ours?.[c] ?? '';
    const t = theirs[c] ?? '';
    if (mine !== t) out.push(`${c}: ${mine || '∅'} ≠ ${t || '∅'}`);
  }
  return out;
}

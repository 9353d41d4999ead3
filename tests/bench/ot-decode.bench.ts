/**
 * OT decode throughput (issue 19): for DNP3, S7comm, EtherNet/IP, BACnet and OPC UA, the protocol
 * frames per second decoded end to end on the protocol's largest trace in ../shared/data (file
 * read, pcap reader, TCP reassembly or UDP, session, mapping to `Event`, each event written as the
 * JSON line `replay` writes; tests/bench/support/ot-decode.ts), target ≥ 100,000 frames/s each,
 * as for Modbus. The peer is Modbus measured the same way in the same run: `replay` over
 * modbusBig.pcap (as tests/bench/modbus.bench.ts measures it, Modbus ADUs as frames). Each codec
 * runs whole passes over its trace for a fixed time budget, in rounds that interleave the codecs
 * so all see the same machine load. The figure is by wall clock, as the other benchmarks report;
 * the note gives the rate by this process's CPU time too, which a loaded machine distorts less.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { replayFiles } from '../../gateway/replay/index.ts';
import { EVENT_SCHEMA_VERSION, type PendingEvent } from '../../protocols/event/schema.ts';
import { SHARED_DATA } from '../support/env.ts';
import { OT_DECODERS } from './support/ot-decode.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'OT decode';

const TARGET = 100_000;
const CHART = { id: 'ot-decode-rate', title: 'Frames decoded to JSON events per second, largest trace' };

/** One pass over a trace: the protocol frames and events it gave. */
type Pass = () => Promise<{ frames: number; events: number }>;

interface Tally {
  frames: number;
  events: number;
  passes: number;
  wallMs: number;
  cpuMs: number;
}

/** Whole passes until `budgetMs` of wall time has gone by, timed by wall clock and CPU time. */
async function runFor(pass: Pass, budgetMs: number, into: Tally): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let wall = 0;
  do {
    const r = await pass();
    into.frames += r.frames;
    into.events += r.events;
    into.passes++;
    wall = performance.now() - t0;
  } while (wall < budgetMs);
  const cpu = process.cpuUsage(cpu0);
  into.wallMs += wall;
  into.cpuMs += (cpu.user + cpu.system) / 1000;
}

/** Writes each event as `replay` does (gateway/replay/index.ts), so the JSON costs the same. */
function jsonWriter() {
  let seq = 0;
  let chars = 0;
  return {
    write(e: PendingEvent) {
      seq++;
      chars +=
        `{"v":${EVENT_SCHEMA_VERSION},"id":"bench:${seq}","gateway":"bench","seq":${seq},${JSON.stringify(e).slice(1)}`
          .length;
    },
    get events() {
      return seq;
    },
    get chars() {
      return chars;
    },
  };
}

const rate = (n: number, ms: number) => (ms > 0 ? (n / ms) * 1000 : 0);
const round = (n: number) => Math.round(n).toLocaleString('en-US');

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const modbusFile = path.join(SHARED_DATA, 'modbus', 'zeek', 'modbusBig.pcap');
  const entries: Array<{ label: string; file: string; unit: string; pass: Pass }> = [
    ...OT_DECODERS.map((d) => {
      const file = path.join(SHARED_DATA, ...d.trace);
      return {
        label: d.protocol,
        file,
        unit: d.unit,
        pass: async () => {
          // The file is read every pass, as `replay` reads it.
          const out = jsonWriter();
          const frames = d.pass(readFileSync(file), out.write);
          return { frames, events: out.events };
        },
      };
    }),
    {
      label: 'Modbus',
      file: modbusFile,
      unit: 'Modbus ADUs',
      pass: async () => {
        let events = 0;
        await replayFiles([modbusFile], { write: () => events++ });
        // As modbus.bench.ts counts: one event per Modbus ADU.
        return { frames: events, events };
      },
    },
  ];
  // A trace that decodes to nothing would give a meaningless rate: fail the benchmark instead.
  for (const e of entries) {
    const r = await e.pass();
    if (r.frames === 0 || r.events === 0) throw new Error(`${path.basename(e.file)}: no ${e.unit} decoded`);
  }
  const warmMs = quick ? 100 : 1000;
  const rounds = quick ? 1 : 3;
  const budgetMs = quick ? 400 : 3000;
  const tallies: Tally[] = entries.map(() => ({ frames: 0, events: 0, passes: 0, wallMs: 0, cpuMs: 0 }));
  const discarded = { frames: 0, events: 0, passes: 0, wallMs: 0, cpuMs: 0 };
  for (const e of entries) await runFor(e.pass, warmMs, discarded); // JIT warm-up
  for (let r = 0; r < rounds; r++)
    for (const [i, e] of entries.entries()) await runFor(e.pass, budgetMs / rounds, tallies[i]!);

  const modbusAt = entries.findIndex((e) => e.label === 'Modbus');
  const modbus = tallies[modbusAt]!;
  const modbusRate = rate(modbus.frames, modbus.wallMs);
  const figures: BenchFigure[] = [];
  for (const [i, e] of entries.entries()) {
    const t = tallies[i]!;
    const perPass = t.frames / t.passes;
    const note =
      `${e.unit}; ${round(perPass)} a pass, ${round(t.events / t.passes)} events; ` +
      `${round(rate(t.events, t.wallMs))} events/s; by CPU time ${round(rate(t.frames, t.cpuMs))} frames/s, ` +
      `${round(rate(t.events, t.cpuMs))} events/s; ${t.passes} passes in ${(t.wallMs / 1000).toFixed(1)} s`;
    const base = {
      value: rate(t.frames, t.wallMs),
      unit: 'frames/s',
      note,
      chart: { ...CHART, series: e.label },
    };
    if (i === modbusAt)
      figures.push({ name: `Modbus, ${path.basename(e.file)} through replay (the peer)`, ...base });
    else
      figures.push({
        name: `${e.label}, ${path.basename(e.file)}: frames decoded to JSON events`,
        ...base,
        peer: { name: 'Modbus, modbusBig.pcap, same run', value: modbusRate },
        target: { value: TARGET, better: 'higher', issue: 19 },
      });
  }
  return figures;
}

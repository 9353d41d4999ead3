/**
 * OT decode throughput (issue 19): for DNP3, S7comm, EtherNet/IP, BACnet and OPC UA, the protocol
 * frames per second decoded end to end to `Event` on the protocol's largest trace in
 * ../shared/data (file read, pcap reader, then the gateway's own capture decoder: TCP reassembly or UDP, session, mapping to `Event`;
 * tests/bench/support/ot-decode.ts), target ≥ 100,000 frames/s each, as for Modbus. The peer is
 * Modbus measured the same way in the same run: `replay`'s own decoder over modbusBig.pcap
 * (Modbus ADUs as frames, as tests/bench/modbus.bench.ts counts them). The note adds the rate
 * with every event also written as the JSON line `replay` writes (what modbus.bench.ts times).
 * Each codec runs whole passes over its trace for a fixed time budget, in rounds that interleave
 * the codecs so all see the same machine load. The figure, and the target's verdict, are frames
 * per second of this process's CPU time (process.cpuUsage, user + system): on a shared 2-core
 * machine the wall clock mostly measures the other processes. The note gives the wall-clock rate.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { observations, readInputs, replayFiles } from '../../gateway/replay/index.ts';
import { EVENT_SCHEMA_VERSION, type PendingEvent } from '../../protocols/event/schema.ts';
import { SHARED_DATA } from '../support/env.ts';
import { OT_DECODERS } from './support/ot-decode.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'OT decode';

const TARGET = 100_000;
const CHART = { id: 'ot-decode-rate', title: 'Frames decoded to events per CPU second, largest trace' };

/** One pass over a trace, to `Event`s or on to `replay`'s JSON lines: the frames and events it gave. */
type Pass = (json: boolean) => Promise<{ frames: number; events: number }>;

interface Tally {
  frames: number;
  events: number;
  passes: number;
  wallMs: number;
  cpuMs: number;
}

const tally = (): Tally => ({ frames: 0, events: 0, passes: 0, wallMs: 0, cpuMs: 0 });

/** Whole passes until `budgetMs` of wall time has gone by, timed by wall clock and CPU time. */
async function runFor(pass: Pass, json: boolean, budgetMs: number, into: Tally): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let wall = 0;
  do {
    const r = await pass(json);
    into.frames += r.frames;
    into.events += r.events;
    into.passes++;
    wall = performance.now() - t0;
  } while (wall < budgetMs);
  const cpu = process.cpuUsage(cpu0);
  into.wallMs += wall;
  into.cpuMs += (cpu.user + cpu.system) / 1000;
}

/** Counts events, and with `json` writes each as `replay` does (gateway/replay/index.ts). */
function eventSink(json: boolean) {
  let seq = 0;
  let chars = 0;
  return {
    write(e: PendingEvent) {
      seq++;
      if (json)
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

/** Modbus through `replay`'s own decode path: its observations alone, or its whole JSON output. */
async function modbusPass(file: string, json: boolean): Promise<{ frames: number; events: number }> {
  let events = 0;
  if (json) await replayFiles([file], { write: () => events++ });
  else {
    const summary = { files: 0, frames: 0, lines: 0, events: 0, alerts: 0 };
    for (const o of observations(readInputs([file]), {}, summary)) events += o.events.length;
  }
  // As modbus.bench.ts counts: one event per Modbus ADU.
  return { frames: events, events };
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const modbusFile = path.join(SHARED_DATA, 'modbus', 'zeek', 'modbusBig.pcap');
  const entries: Array<{ label: string; file: string; unit: string; pass: Pass }> = [
    ...OT_DECODERS.map((d) => {
      const file = path.join(SHARED_DATA, ...d.trace);
      return {
        label: d.protocol,
        file,
        unit: d.unit,
        pass: async (json: boolean) => {
          // The file is read every pass, as `replay` reads it.
          const out = eventSink(json);
          const frames = d.pass(readFileSync(file), out.write);
          return { frames, events: out.events };
        },
      };
    }),
    { label: 'Modbus', file: modbusFile, unit: 'Modbus ADUs', pass: (json) => modbusPass(modbusFile, json) },
  ];
  // A trace that decodes to nothing would give a meaningless rate: fail the benchmark instead.
  for (const e of entries) {
    const r = await e.pass(false);
    if (r.frames === 0 || r.events === 0) throw new Error(`${path.basename(e.file)}: no ${e.unit} decoded`);
  }
  const warmMs = quick ? 100 : 500;
  const rounds = quick ? 1 : 3;
  const budgetMs = quick ? 300 : 2000;
  const toEvent = entries.map(tally);
  const toJson = entries.map(tally);
  const discarded = tally();
  for (const e of entries) for (const json of [false, true]) await runFor(e.pass, json, warmMs, discarded); // JIT warm-up
  // Rounds interleave the codecs, so a change in the machine's load falls on all of them.
  for (let r = 0; r < rounds; r++)
    for (const [i, e] of entries.entries()) {
      await runFor(e.pass, false, budgetMs / rounds, toEvent[i]!);
      await runFor(e.pass, true, budgetMs / rounds, toJson[i]!);
    }

  const modbusAt = entries.findIndex((e) => e.label === 'Modbus');
  const modbus = toEvent[modbusAt]!;
  const figures: BenchFigure[] = [];
  for (const [i, e] of entries.entries()) {
    const t = toEvent[i]!;
    const j = toJson[i]!;
    const note =
      `${e.unit}; ${round(t.frames / t.passes)} a pass giving ${round(t.events / t.passes)} events, ` +
      `${round(rate(t.events, t.cpuMs))} events per CPU second; by wall clock ${round(rate(t.frames, t.wallMs))} frames/s; ` +
      `with replay's JSON lines ${round(rate(j.frames, j.wallMs))} frames/s ` +
      `(CPU time ${round(rate(j.frames, j.cpuMs))}); ${t.passes} + ${j.passes} passes`;
    const base = {
      value: rate(t.frames, t.cpuMs),
      unit: 'frames/CPU-s',
      note,
      chart: { ...CHART, series: e.label },
    };
    if (i === modbusAt)
      figures.push({
        name: `Modbus, ${path.basename(e.file)}, replay's decoder to events (the peer)`,
        ...base,
      });
    else
      figures.push({
        name: `${e.label}, ${path.basename(e.file)}: frames decoded to events`,
        ...base,
        peer: { name: 'Modbus, modbusBig.pcap, same run', value: rate(modbus.frames, modbus.cpuMs) },
        target: { value: TARGET, better: 'higher', issue: 19 },
      });
  }
  return figures;
}

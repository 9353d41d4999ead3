/**
 * `siem-gateway replay FILE...`: forensic import. Runs the gateway's decoders over pcap/pcapng
 * captures, Windows `.evtx` event logs (one event per record, protocols/windows) and text logs
 * (one syslog message per line: RFC 5424, RFC 3164 or the BSD file format)
 * with the file's own clock (capture time; for logs the message time, else the last one seen,
 * else the file's mtime), and writes one JSON object per line: every event (a valid `Event`,
 * with `fields.frame` or `fields.line`), and every alert a detector raises (`"type":"alert"`).
 * Events get the config's gateway id (or `replay`) and `seq` in output order. Nothing is
 * forwarded. A detector is a pure `(event, now) => alerts` (Sigma rules: gateway/replay/detector.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  type Event,
  EVENT_SCHEMA_VERSION,
  eventId,
  type PendingEvent,
} from '../../protocols/event/schema.ts';
import { detectCaptureFormat, iterateCapture } from '../../protocols/pcap/index.ts';
import { readEvtx, windowsRecordToEvent } from '../../protocols/windows/index.ts';
import { createCaptureDecoder } from '../sources/capture/decoder.ts';
import { replayLogLines } from './log.ts';

export interface ReplayAlert {
  rule_id: string;
  rule_title: string;
  severity: number;
  techniques: string[];
  /** The triggering events. */
  event_ids: string[];
  /** Where each triggering event came from: its id with the file's frame or line number. */
  events?: Array<{ id: string; frame?: number; line?: number; file?: string }>;
  [key: string]: unknown;
}

/** Detection hook: pure, time passed in (the replayed file's clock). */
export type ReplayDetector = (event: Event, now: Date) => ReplayAlert[];

export interface ReplayOptions {
  gatewayId?: string;
  write: (line: string) => void;
  detector?: ReplayDetector;
  /** Called after the last file: alerts still open in the detector (windows closing at the end). */
  finish?: () => ReplayAlert[];
  modbusPorts?: number[];
  syslogUdpPorts?: number[];
  mqttPorts?: number[];
  coapPorts?: number[];
}

export interface ReplaySummary {
  files: number;
  frames: number;
  lines: number;
  /** Records read from `.evtx` files, and those that could not be read (each told on stderr). */
  records?: number;
  badRecords?: number;
  events: number;
  alerts: number;
}

export class ReplayFileError extends Error {}

/** Reads a file, or throws a ReplayFileError whose message a person can act on. */
export function readInput(file: string): { bytes: Buffer; mtime: Date } {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new ReplayFileError(`${file}: not a regular file`);
    return { bytes: readFileSync(file), mtime: st.mtime };
  } catch (error) {
    if (error instanceof ReplayFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ReplayFileError(`${file}: cannot read (${code})`);
  }
}

/** A text log has no NUL bytes and decodes mostly as text in its first 4 KiB. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 4096);
  let control = 0;
  for (const b of head) {
    if (b === 0) return false;
    if (b < 9 || (b > 13 && b < 32)) control++;
  }
  return control <= head.length / 20;
}

/** A Windows event log file (EVTX: `ElfFile\0`). */
export function isEvtx(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === 'ElfFile\0';
}

/** What the files say, batch by batch (a frame's events, a line's event) with the file's clock. */
export function* observations(
  inputs: ReadonlyArray<{ file: string; bytes: Buffer; mtime: Date }>,
  options: Pick<ReplayOptions, 'modbusPorts' | 'syslogUdpPorts' | 'mqttPorts' | 'coapPorts'>,
  summary: ReplaySummary,
): Generator<{ events: PendingEvent[]; now: Date }> {
  const multi = inputs.length > 1;
  for (const input of inputs) {
    summary.files++;
    const extraFields = multi ? { file: path.basename(input.file) } : {};
    if (detectCaptureFormat(input.bytes)) {
      const decoder = createCaptureDecoder({
        extraFields,
        ...(options.modbusPorts ? { modbusPorts: options.modbusPorts } : {}),
        ...(options.syslogUdpPorts ? { syslogUdpPorts: options.syslogUdpPorts } : {}),
        ...(options.mqttPorts ? { mqttPorts: options.mqttPorts } : {}),
        ...(options.coapPorts ? { coapPorts: options.coapPorts } : {}),
      });
      let frame = 0;
      let last = input.mtime;
      for (const item of iterateCapture(input.bytes)) {
        if (item.type === 'error') {
          process.stderr.write(`${input.file}: ${item.error.message} at byte ${item.error.offset}\n`);
          continue;
        }
        frame++;
        last = item.packet.ts;
        const events = decoder.packet(item.packet.linkType, item.packet.data, { frame, ts: last });
        if (events.length > 0) yield { events, now: last };
      }
      const rest = decoder.flush();
      if (rest.length > 0) yield { events: rest, now: last };
      summary.frames += frame;
    } else if (isEvtx(input.bytes)) {
      // Windows event log: one event per record, at the event's own time (protocols/windows).
      const file = readEvtx(input.bytes);
      let last = input.mtime;
      for (const r of file.records) {
        summary.records = (summary.records ?? 0) + 1;
        if (!r.record) {
          summary.badRecords = (summary.badRecords ?? 0) + 1;
          process.stderr.write(`${input.file}: record ${r.number} at byte ${r.offset}: ${r.error}\n`);
          continue;
        }
        const at = r.record.time ?? r.written;
        if (at) last = new Date(at);
        const event = windowsRecordToEvent(r.record, last);
        event.fields = { ...event.fields, ...extraFields, record: r.number };
        yield { events: [event], now: last };
      }
    } else {
      const lines: Array<{ events: PendingEvent[]; now: Date }> = [];
      summary.lines += replayLogLines(input.bytes, input.mtime, extraFields, (event, now) =>
        lines.push({ events: [event], now }),
      );
      yield* lines;
    }
  }
}

/** Reads every file first: an unreadable or unknown one fails the run before any output. */
export function readInputs(files: string[]) {
  const inputs = files.map((file) => ({ file, ...readInput(file) }));
  for (const input of inputs) {
    const format = detectCaptureFormat(input.bytes);
    if (!format && !isEvtx(input.bytes) && !looksLikeText(input.bytes))
      throw new ReplayFileError(
        `${input.file}: neither a pcap/pcapng capture, a Windows .evtx log nor a text log`,
      );
  }
  return inputs;
}

export async function replayFiles(files: string[], options: ReplayOptions): Promise<ReplaySummary> {
  const gateway = options.gatewayId ?? 'replay';
  const summary: ReplaySummary = {
    files: 0,
    frames: 0,
    lines: 0,
    records: 0,
    badRecords: 0,
    events: 0,
    alerts: 0,
  };
  const inputs = readInputs(files);
  let seq = 0;
  const gatewayJson = JSON.stringify(gateway);
  const publish = (pending: PendingEvent, now: Date) => {
    seq += 1;
    summary.events++;
    if (!options.detector) {
      // The same JSON as stringifying the whole event, without copying it first (hot path); the
      // gateway id's syntax (letters, digits, . _ -) needs no escaping.
      options.write(
        `{"v":${EVENT_SCHEMA_VERSION},"id":"${gateway}:${seq}","gateway":${gatewayJson},"seq":${seq},${JSON.stringify(pending).slice(1)}`,
      );
      return;
    }
    const event = { v: EVENT_SCHEMA_VERSION, id: eventId(gateway, seq), gateway, seq, ...pending } as Event;
    options.write(JSON.stringify(event));
    for (const alert of options.detector(event, now)) {
      summary.alerts++;
      options.write(JSON.stringify({ type: 'alert', ts: now.toISOString(), ...alert }));
    }
  };
  for (const { events, now } of observations(inputs, options, summary))
    for (const e of events) publish(e, now);
  for (const alert of options.finish?.() ?? []) {
    summary.alerts++;
    options.write(JSON.stringify({ type: 'alert', ...alert }));
  }
  return summary;
}

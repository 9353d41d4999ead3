/**
 * Helpers for the pipeline tests: a sink that keeps what it is given (the queue's contract:
 * events get an id and a seq in order), Modbus events as the proxy and captures make them, and a
 * pipeline built from a `pipeline:` config with rules given as YAML text.
 */
import { createBaselines } from '../../../gateway/baselines/index.ts';
import { createStages } from '../../../gateway/pipeline/build.ts';
import { pipelineSchema } from '../../../gateway/pipeline/config.ts';
import { createPipeline, immediateSink } from '../../../gateway/pipeline/index.ts';
import { EVENT_SCHEMA_VERSION, type Event, type PendingEvent } from '../../../protocols/event/schema.ts';
import { buildRuleSet } from '../../../protocols/sigma/rules-dir.ts';

export function memorySink() {
  const events: Event[] = [];
  let seq = 0;
  return {
    events,
    ...immediateSink((pending) =>
      pending.map((p) => {
        seq++;
        const e = { v: EVENT_SCHEMA_VERSION, id: `t:${seq}`, gateway: 't', seq, ...p } as Event;
        events.push(e);
        return e;
      }),
    ),
  };
}

export const T0 = Date.parse('2026-12-01T08:00:00Z');

export function modbus(
  at: number,
  o: {
    master?: string;
    server?: string;
    unit?: number;
    fc?: number;
    direction?: 'request' | 'response';
    address?: number;
    quantity?: number;
    values?: number[];
    tid?: number;
    exception?: number;
  } = {},
): PendingEvent {
  const master = { ip: o.master ?? '10.0.0.10', port: 40000 };
  const server = { ip: o.server ?? '10.0.0.5', port: 502 };
  const direction = o.direction ?? 'request';
  const fc = o.fc ?? 3;
  const names: Record<number, string> = {
    1: 'read_coils',
    3: 'read_holding_registers',
    5: 'write_single_coil',
    6: 'write_single_register',
    8: 'diagnostics',
  };
  const ts = new Date(at).toISOString();
  const read = fc <= 4;
  return {
    ts,
    received: ts,
    source: 'modbus',
    kind: o.exception !== undefined || !read ? 'security' : 'telemetry',
    action: o.exception !== undefined ? 'modbus.exception' : `modbus.${names[fc] ?? 'unknown_function'}`,
    severity: read && o.exception === undefined ? 6 : 5,
    message: `${names[fc]} ${direction}`,
    device: { id: `modbus:${server.ip}/${o.unit ?? 1}`, protocol_id: String(o.unit ?? 1) },
    src: direction === 'request' ? master : server,
    dst: direction === 'request' ? server : master,
    fields: {
      direction,
      function_code: fc,
      function: names[fc] ?? 'unknown',
      unit_id: o.unit ?? 1,
      transport: 'tcp',
      transaction_id: o.tid ?? 1,
      address: o.address ?? 0,
      quantity: o.quantity ?? 10,
      ...(o.values && { values: o.values }),
      ...(o.exception !== undefined && { exception_code: o.exception, exception: 'illegal_data_address' }),
    },
    tags: [],
  };
}

export function buildPipeline(
  config: unknown,
  opts: { rules?: string[]; learningMs?: number; dataDir?: string } = {},
) {
  const sink = memorySink();
  const engine = opts.rules ? buildRuleSet(opts.rules, {}).engine : undefined;
  const baselines = createBaselines({
    learningMs: opts.learningMs ?? 3600_000,
    rangeMargin: 0.1,
    rateFactor: 10,
    minRatePerMin: 60,
  });
  const parsed = pipelineSchema.parse(config);
  const pipeline = createPipeline({
    sink,
    stages: (hooks) =>
      createStages(parsed, {
        dataDir: opts.dataDir ?? '/nonexistent',
        baselines,
        engine: () => engine,
        ...hooks,
      }),
    engine: () => engine,
  });
  return { sink, pipeline, baselines, engine };
}

/** The counts invariant every stage keeps: what came in or was made went out or was dropped. */
export function countsAddUp(
  counts: ReadonlyArray<{ in: number; out: number; dropped: number; created: number }>,
) {
  return counts.every((c) => c.in + c.created === c.out + c.dropped);
}

/**
 * Event values for the link event check's property tests (event-check*.test.ts), JSON-parsed as
 * the link codec hands them over: valid events, valid events with one change at a limit, anything
 * at all, and the common event a gateway sends.
 */
import fc from 'fast-check';
import { EVENT_KINDS, EVENT_SOURCES } from '../../../protocols/event/schema.ts';

export const RUNS = 3000;

/** Strings of every length the schema draws a line at, either side of the line. */
const LIMITS = [
  0, 1, 2, 3, 4, 31, 32, 33, 63, 64, 65, 127, 128, 129, 254, 255, 256, 257, 1023, 1024, 1025, 65_536, 65_537,
];
const boundaryString = fc.constantFrom(...LIMITS).map((n) => 'x'.repeat(n));
const isoTime = fc.oneof(
  fc
    .date({
      min: new Date('0000-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom('2024-02-29T12:00:00Z', '2024-05-01T12:00:00.123456789+02:00', '0000-01-01T00:00:00.000Z'),
);
const badIsoTime = fc.constantFrom(
  '2023-02-29T12:00:00Z',
  '2024-04-31T00:00:00Z',
  '2024-05-01T24:00:00Z',
  '2024-05-01T12:00:00',
  '2024-05-01 12:00:00Z',
  '+010000-01-01T00:00:00.000Z',
);
/** Anything a field might be replaced with: values either side of every limit, other types. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  boundaryString,
  fc.string({ maxLength: 10 }),
  fc.constantFrom(
    ...EVENT_SOURCES,
    ...EVENT_KINDS,
    'device',
    'gateway',
    'snmp',
    'g:1',
    '-gw',
    'gw 1',
    'gw\n',
  ),
  fc.constantFrom(
    -1,
    0,
    1,
    2,
    7,
    8,
    0.5,
    -0.5,
    65_535,
    65_536,
    2 ** 53 - 1,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    1e300,
  ),
  isoTime,
  badIsoTime,
  fc.constantFrom(null, true, false),
  fc
    .constantFrom(0, 1, 31, 32, 33, 63, 64, 65)
    .chain((n) => fc.array(fc.oneof(boundaryString, fc.constant(1)), { minLength: n, maxLength: n })),
  fc.array(boundaryString, { maxLength: 3 }),
  fc.dictionary(
    fc.constantFrom('id', 'ip', 'port', 'rule_id', 'x', 'techniques', 'name'),
    fc.oneof(fc.string(), fc.nat()),
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

const within = (max: number, min = 0) =>
  fc.oneof(fc.string({ minLength: min, maxLength: Math.min(max, 16) }), fc.constant('y'.repeat(max)));
const endpoint = fc.record(
  { ip: within(64), port: fc.oneof(fc.integer({ min: 0, max: 65_535 }), fc.constantFrom(0, 65_535)) },
  { requiredKeys: [] },
);

/** A valid event using every optional key sometimes, with values up to every limit. */
const validEvent = fc.record(
  {
    v: fc.constant(1),
    id: within(256, 3),
    gateway: fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/), fc.constant('g'.repeat(64))),
    seq: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
    ts: isoTime,
    received: isoTime,
    time_source: fc.constantFrom('device', 'gateway'),
    clock_offset_ms: fc.oneof(fc.integer(), fc.constantFrom(-(2 ** 53) + 1, 2 ** 53 - 1)),
    source: fc.constantFrom(...EVENT_SOURCES),
    kind: fc.constantFrom(...EVENT_KINDS),
    action: within(128, 1),
    severity: fc.integer({ min: 0, max: 7 }),
    message: within(65_536),
    host: within(255),
    device: fc.record(
      { id: within(256, 1), protocol_id: within(256), name: within(256) },
      { requiredKeys: ['id'] },
    ),
    src: endpoint,
    dst: endpoint,
    fields: fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('constructor', '0', 'toString')),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    tags: fc.oneof(
      fc.array(within(128), { maxLength: 4 }),
      fc.constant(Array.from({ length: 64 }, () => 't')),
    ),
    threat: fc.record(
      {
        rule_id: within(256),
        rule_name: within(1024),
        techniques: fc.oneof(
          fc.array(within(32), { maxLength: 3 }),
          fc.constant(Array.from({ length: 32 }, () => 'T')),
        ),
      },
      { requiredKeys: ['rule_id'] },
    ),
  },
  {
    requiredKeys: [
      'v',
      'id',
      'gateway',
      'seq',
      'ts',
      'received',
      'source',
      'kind',
      'action',
      'severity',
      'message',
    ],
  },
);

const x = (...lengths: number[]) => fc.constantFrom(...lengths).map((n) => 'x'.repeat(n));
const list = (items: number[], item: fc.Arbitrary<unknown>) =>
  fc.constantFrom(...items).chain((n) => fc.array(item, { minLength: n, maxLength: n }));
const SAFE = Number.MAX_SAFE_INTEGER;
/** Per field: values just inside and just outside what the schema allows. */
const EDGES: Record<string, fc.Arbitrary<unknown>> = {
  v: fc.constantFrom(1, 2, 0, '1'),
  id: x(2, 3, 256, 257),
  gateway: fc.constantFrom('g', 'g'.repeat(64), 'g'.repeat(65), '', '.g', 'g/1', 'g\n', 'gé'),
  seq: fc.constantFrom(-1, 0, SAFE, SAFE + 2, 0.5, '1'),
  ts: fc.oneof(isoTime, badIsoTime),
  received: fc.oneof(isoTime, badIsoTime),
  time_source: fc.constantFrom('device', 'gateway', 'ntp', null),
  clock_offset_ms: fc.constantFrom(-SAFE, SAFE, SAFE + 2, -SAFE - 2, 0.5, '1'),
  source: fc.constantFrom(...EVENT_SOURCES, 'snmp', 'Syslog'),
  kind: fc.constantFrom(...EVENT_KINDS, 'debug'),
  action: x(0, 1, 128, 129),
  severity: fc.constantFrom(-1, 0, 7, 8, 0.5, '1'),
  message: x(0, 65_536, 65_537),
  host: x(0, 255, 256),
  fields: fc.constantFrom({}, [], 'x', null, { a: null }),
  tags: fc.oneof(list([0, 64, 65], fc.constant('t')), list([1, 2], fc.oneof(x(128, 129), fc.constant(1)))),
  device: fc.constantFrom({}, { id: 'd' }, [], 'd'),
  'device.id': x(0, 1, 256, 257),
  'device.protocol_id': x(0, 256, 257),
  'device.name': x(0, 256, 257),
  src: fc.constantFrom({}, [], 'a', null),
  'src.ip': x(0, 64, 65),
  'src.port': fc.constantFrom(-1, 0, 65_535, 65_536, 0.5, '80'),
  'dst.ip': x(0, 64, 65),
  'dst.port': fc.constantFrom(-1, 0, 65_535, 65_536, 0.5, '80'),
  threat: fc.constantFrom({}, { rule_id: '' }, [], 'r'),
  'threat.rule_id': x(0, 256, 257),
  'threat.rule_name': x(0, 1024, 1025),
  'threat.techniques': fc.oneof(
    list([0, 32, 33], fc.constant('T')),
    list([1], fc.oneof(x(32, 33), fc.constant(1))),
  ),
  'fields.__proto__': fc.constantFrom({ a: 1 }, 1),
  'fields.k': fc.jsonValue({ maxDepth: 1 }),
  extra: fc.jsonValue({ maxDepth: 1 }),
  'device.extra': fc.string(),
  'src.extra': fc.string(),
  'threat.extra': fc.string(),
  ['__proto__']: fc.constantFrom({}, { v: 2 }),
};

/** One change to a valid event: a field set to an edge value or anything, or deleted. */
const mutation = fc
  .record({
    path: fc.constantFrom(...Object.keys(EDGES)),
    edge: fc.boolean(),
    any: anyValue,
    remove: fc.nat({ max: 5 }).map((n) => n === 0),
  })
  .chain((m) =>
    (m.edge ? EDGES[m.path]! : fc.constant(m.any)).map((value) => ({
      path: m.path,
      value,
      remove: m.remove,
    })),
  );

function mutate(event: Record<string, unknown>, m: { path: string; value: unknown; remove: boolean }) {
  // Through JSON text, so that `__proto__` becomes an own key exactly as in a received frame.
  const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  const [outer, inner] = m.path.split('.') as [string, string | undefined];
  let target = copy;
  let key = outer;
  if (inner !== undefined) {
    const nested = copy[outer];
    if (typeof nested !== 'object' || nested === null) return JSON.stringify(copy);
    target = nested as Record<string, unknown>;
    key = inner;
  }
  if (m.remove) delete target[key];
  else
    Object.defineProperty(target, key, {
      value: m.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return JSON.stringify(copy);
}

/** Valid events, valid events with one change, and anything at all; JSON-parsed like a frame's. */
export const input = fc
  .oneof(
    { weight: 2, arbitrary: validEvent.map((e) => JSON.stringify(e)) },
    { weight: 7, arbitrary: fc.tuple(validEvent, mutation).map(([e, m]) => mutate(e, m)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  )
  .map((text) => JSON.parse(text) as unknown);

/** A valid event of the common kind: what a gateway sends. */
export const common = fc
  .record(
    {
      seq: fc.nat(),
      ts: fc.date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      }),
      offset: fc.integer({ min: -1e9, max: 1e9 }),
      message: fc.string({ maxLength: 200 }),
      device: fc.boolean(),
      threat: fc.boolean(),
      fields: fc.dictionary(
        fc.string().filter((k) => k !== '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      tags: fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
    },
    { requiredKeys: ['seq', 'ts', 'offset', 'message', 'device', 'threat'] },
  )
  .map(
    (r) =>
      JSON.parse(
        JSON.stringify({
          v: 1,
          id: `gw-1:${r.seq}`,
          gateway: 'gw-1',
          seq: r.seq,
          ts: r.ts.toISOString(),
          received: r.ts.toISOString(),
          time_source: 'gateway',
          clock_offset_ms: r.offset,
          source: 'modbus',
          kind: 'security',
          action: 'modbus.write_single_register',
          severity: 4,
          message: r.message,
          host: 'plc-7',
          ...(r.device && { device: { id: 'modbus:10.0.0.5/1', protocol_id: '1' } }),
          src: { ip: '10.0.0.9', port: 50_123 },
          dst: { ip: '10.0.0.5', port: 502 },
          ...(r.fields && { fields: r.fields }),
          ...(r.tags && { tags: r.tags }),
          ...(r.threat && { threat: { rule_id: 'r-1', techniques: ['T0836'] } }),
        }),
      ) as unknown,
  );

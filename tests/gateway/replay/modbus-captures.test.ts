/**
 * Every Modbus capture in ../shared/data (CISA ICSNPP, Zeek, ITI, Suricata-verify, nDPI) through
 * `replay`, compared frame by frame with tshark's reading (expected-tshark/*.modbus.csv): MBAP
 * transaction id, unit, function code, exception code, diagnostic sub-function, MEI type,
 * address, quantity and register values. The few frames where we knowingly differ are listed
 * with the reason; any other difference fails. Also checks the ICSNPP and Zeek logs' values.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEvent } from '../../../protocols/event/schema.ts';
import { sharedData } from '../../support/env.ts';
import { compareWithTshark, readCsv, replayEvents } from './tshark.ts';

/** Frames where tshark and we disagree on purpose. */
const KNOWN: Record<string, string[]> = {
  // A "spurious retransmission" whose original segment the capture never held: we decode the
  // bytes once, tshark skips the segment.
  'modbus/zeek/modbusBig.pcap': ['frame 3150: modbus.read_coils, tshark saw no Modbus'],
  // Retransmissions that carry 48 bytes beyond what was captured before: we decode the new bytes.
  'modbus/iti/mb2.pcap': [
    'frame 1131: modbus.read_input_registers, tshark saw no Modbus',
    'frame 13176: modbus.read_input_registers, tshark saw no Modbus',
  ],
  // Fuzzed IP headers: frame 20 claims an IPv4 total length of 35124 in a 52-byte frame (we reject
  // it as truncated); frame 2 is the first data seen on its direction (tshark calls it out of order).
  'modbus/zeek/fuzz-72.pcap': [
    'frame 20: 0 Modbus events, tshark has 1 ADUs',
    'frame 2: modbus.exception, tshark saw no Modbus',
  ],
};

const CAPTURES: Array<[string, string, number]> = [
  ['modbus/icsnpp/modbus_example.pcap', 'modbus/icsnpp/expected-tshark/modbus_example.modbus.csv', 48],
  ['modbus/zeek/modbusBig.pcap', 'modbus/zeek/expected-tshark/modbusBig.modbus.csv', 5549],
  ['modbus/zeek/modbusSmall.pcap', 'modbus/zeek/expected-tshark/modbusSmall.modbus.csv', 32],
  ['modbus/zeek/fuzz-72.pcap', 'modbus/zeek/expected-tshark/fuzz-72.modbus.csv', 17],
  ['modbus/zeek/fuzz-1011.pcap', 'modbus/zeek/expected-tshark/fuzz-1011.modbus.csv', 4],
  ['modbus/zeek/modbus-eit.pcap', 'modbus/zeek/expected-tshark/modbus-eit.modbus.csv', 4],
  [
    'modbus/zeek/4SICS-GeekLounge-151022-min.pcap',
    'modbus/zeek/expected-tshark/4SICS-GeekLounge-151022-min.modbus.csv',
    2,
  ],
  [
    'modbus/zeek/modbus-and-non-modbus-p502.pcap',
    'modbus/zeek/expected-tshark/modbus-and-non-modbus-p502.modbus.csv',
    12,
  ],
  ['modbus/iti/ModbusTCP.pcap', 'modbus/iti/expected-tshark/ModbusTCP.modbus.csv', 15976],
  ['modbus/iti/mb2.pcap', 'modbus/iti/expected-tshark/mb2.modbus.csv', 3584],
  ['modbus/iti/modbus_test.pcap', 'modbus/iti/expected-tshark/modbus_test.modbus.csv', 2258],
  ['modbus/iti/modbus_test_2.pcap', 'modbus/iti/expected-tshark/modbus_test_2.modbus.csv', 3975],
  ['suricata-verify/modbus/modbus.pcap', 'suricata-verify/modbus/expected-tshark/modbus.modbus.csv', 39],
  ['ndpi/modbus.pcap', 'ndpi/expected-tshark/modbus.modbus.csv', 102],
];

describe('Modbus captures through replay match tshark frame by frame', () => {
  for (const [pcapPath, csvPath, decodedAdus] of CAPTURES) {
    test(pcapPath, async (t) => {
      const pcap = sharedData(t, ...pcapPath.split('/'));
      const csv = sharedData(t, ...csvPath.split('/'));
      if (!pcap || !csv) return;
      const events = await replayEvents(pcap);
      const problems = compareWithTshark(readCsv(csv), events);
      assert.deepEqual(problems, KNOWN[pcapPath] ?? []);
      const modbus = events.filter((e) => e.source === 'modbus' && e.action !== 'modbus.malformed');
      assert.equal(modbus.length, decodedAdus);
      for (const e of events.slice(0, 500)) assert.ok(parseEvent(e).ok, JSON.stringify(e));
    });
  }
});

describe('values match the ICSNPP and Zeek logs', () => {
  test('ICSNPP modbus_detailed.log: one exchange per public function code', async (t) => {
    const pcap = sharedData(t, 'modbus', 'icsnpp', 'modbus_example.pcap');
    if (!pcap) return;
    const events = await replayEvents(pcap);
    const resp = (tid: number, fc: number) =>
      events.find(
        (e) =>
          e.fields.transaction_id === tid &&
          e.fields.direction === 'response' &&
          e.fields.function_code === fc,
      )!;
    const req = (tid: number) =>
      events.find((e) => e.fields.transaction_id === tid && e.fields.direction === 'request')!;
    // READ_COILS tid 2 unit 5: address 1 quantity 8, response values 1,0,0,1,0,1,1,1.
    assert.deepEqual(
      [resp(2, 1).fields.address, resp(2, 1).fields.quantity, resp(2, 1).fields.values],
      [1, 8, [1, 0, 0, 1, 0, 1, 1, 1]],
    );
    assert.deepEqual(resp(4, 2).fields.values, [0, 0, 1, 1, 0, 1, 0, 0]);
    assert.deepEqual(resp(6, 3).fields.values, [170, 170, 187, 204, 61316, 58347, 40843, 58561]);
    assert.deepEqual(resp(8, 4).fields.values, [36395, 8059, 39755, 33361, 7162, 56207, 619, 44695]);
    assert.deepEqual([req(9).action, req(9).fields.values], ['modbus.write_single_coil', [1]]);
    assert.deepEqual([req(10).action, req(10).fields.values], ['modbus.write_single_register', [43981]]);
    assert.deepEqual(
      [req(12).fields.sub_function_name, req(12).fields.data],
      ['return_diagnostic_register', '0000'],
    );
    assert.deepEqual([req(13).fields.address, req(13).fields.values], [1, [1, 0, 0, 1]]);
    assert.deepEqual([req(14).fields.address, req(14).fields.values], [1, [170, 187, 204, 221]]);
    assert.equal(req(18).action, 'modbus.mask_write_register');
    assert.equal(req(18).fields.address, 10);
    assert.equal(req(23).action, 'modbus.read_device_identification');
    const ex = events.find((e) => e.action === 'modbus.exception')!;
    assert.deepEqual(
      [ex.fields.function, ex.fields.exception, ex.fields.address, ex.fields.request_frame],
      ['read_holding_registers', 'illegal_data_address', undefined, 99],
    );
    assert.deepEqual(
      [req(1).src, req(1).dst],
      [
        { ip: '127.0.0.1', port: 47785 },
        { ip: '127.0.0.1', port: 502 },
      ],
    );
  });
  test('Zeek exception_handling: unknown functions answered with ILLEGAL_FUNCTION', async (t) => {
    const pcap = sharedData(t, 'modbus', 'zeek', 'fuzz-72.pcap');
    if (!pcap) return;
    const events = await replayEvents(pcap);
    const exceptions = events.filter((e) => e.action === 'modbus.exception');
    assert.ok(exceptions.length >= 2);
    for (const e of exceptions) assert.equal(e.fields.exception, 'illegal_function');
    assert.ok(events.some((e) => e.action === 'modbus.malformed' && e.fields.code === 'invalid_protocol_id'));
  });
});

/**
 * The OPC UA decoder against third-party ground truth (../shared/data/opcua/icsnpp): every trace
 * read through the project's pcap reader, TCP reassembly and protocols/opcua's stream decoder,
 * compared per frame with tshark 4.0.17's `opcua.*` fields and per transaction with CISA ICSNPP's
 * `opcua_binary.log`. The counts are exact, so a regression fails. Disagreements, all explained:
 *
 * - `opcua_with-gap*`: spurious retransmissions at frames 26 and 30 break tshark's reassembly of
 *   the 13,990-byte CreateSessionResponse, which we decode in frame 30 (one frame tshark does not
 *   list). ICSNPP logs the CreateSession request without its response and then nothing more on
 *   that connection ("data-gap"), so its 4 rows (41 with the second handshake) hold one unpaired
 *   request that we pair, and the 85 transactions after it are ours only.
 * - encrypted traces (`*_encrypted`): tshark prints sequence numbers, request ids and service ids
 *   read from ciphertext (e.g. seq 82634412); we mark those messages `encrypted` and decode no
 *   body, so those frames agree on the transport fields only (type, chunk, size, channel, policy).
 * - `pending_overflow`: its requests travel from port 4840 and its responses to it; we (like
 *   tshark) go by the service, not the port, and flag `direction_mismatch`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharedData } from '../../support/env.ts';
import { compareWithTshark, compareWithZeek } from './compare.ts';
import { decodeTrace } from './trace.ts';

interface Expect {
  /** tshark rows, rows agreeing on every field, rows agreeing on the transport fields. */
  tshark: [rows: number, agree: number, transport: number];
  /** Frames where we decoded a message tshark does not list. */
  extra?: number[];
  /** ICSNPP test folder: log rows, rows we agree with, our transactions it does not log. */
  zeek?: [folder: string, rows: number, agree: number, oursOnly: number];
  /** Our events (messages and malformed). */
  events: number;
  ports?: number[];
}

const TESTS: Record<string, Expect> = {
  'open62541_client-server_mainloop': { tshark: [66, 66, 66], zeek: ['basic', 37, 37, 0], events: 68 },
  'open62541_client-server_mainloop-no-handshake': {
    tshark: [54, 54, 54],
    zeek: ['no-handshake', 29, 29, 0],
    events: 56,
  },
  'open62541_client-server_mainloop-not-localhost-non-standard-port': {
    tshark: [68, 68, 68],
    zeek: ['non-standard-port', 37, 37, 0],
    events: 68,
    ports: [],
  },
  'opcua_with-gap': { tshark: [171, 171, 171], extra: [30], zeek: ['data-gap', 4, 3, 85], events: 172 },
  'opcua_with-gap_with-handshake': {
    tshark: [239, 239, 239],
    extra: [30],
    zeek: ['data-gap_with-handshake', 41, 40, 85],
    events: 240,
  },
  pending_overflow: { tshark: [24, 24, 24], events: 24 },
};

const SAMPLES: Record<string, Expect> = {
  open62541_browse_has_server_idx: { tshark: [29, 29, 29], events: 29 },
  open62541_browse_next: { tshark: [40, 40, 40], events: 40 },
  open62541_browse_request_with_results: { tshark: [106, 106, 106], events: 106 },
  open62541_browse_with_diagnostic_info: { tshark: [39, 39, 39], events: 39 },
  'open62541_client-server-getEndpoints': { tshark: [7, 7, 7], events: 7 },
  'open62541_client-server_encrypted': { tshark: [20, 9, 20], events: 20 },
  'open62541_client-server_mainloop-4-InnerDiagInfo': { tshark: [66, 66, 66], events: 68 },
  'open62541_client-server_mainloop-ActivateSession-diagInfo': { tshark: [85, 85, 85], events: 88 },
  'open62541_client-server_mainloop-hasInnerDiagInfo': { tshark: [68, 68, 68], events: 68 },
  'open62541_client-server_mainloop-hasInnerDiagInfohasAddlInfo': { tshark: [67, 67, 67], events: 68 },
  'open62541_client-server_mainloop-hasInnerStatusCode': { tshark: [68, 68, 68], events: 68 },
  'open62541_client-server_mainloop-not-localhost': { tshark: [68, 68, 68], events: 68 },
  'open62541_client-server_mainloop-withStringTable': { tshark: [68, 68, 68], events: 68 },
  'open62541_client-server_mainloop': { tshark: [66, 66, 66], events: 68 },
  'open62541_client-server_minimal': { tshark: [67, 67, 67], events: 68 },
  open62541_create_monitored_items: { tshark: [28, 28, 28], events: 28 },
  open62541_discover_getendpoints_discover_urls: { tshark: [30, 30, 30], events: 30 },
  open62541_read_service_test_data: { tshark: [185, 185, 185], events: 185 },
  open62541_read_service_test_data_with_history: { tshark: [187, 187, 187], events: 187 },
  'python_opcua-client-server_encrypted': { tshark: [17, 9, 17], events: 17 },
  'python_opcua-client-server_minimal-2': { tshark: [19, 19, 19], events: 19 },
  'python_opcua-client-server_minimal': { tshark: [17, 17, 17], events: 17 },
};

function check(dir: string[], name: string, x: Expect) {
  test(`${[...dir.slice(2), name].join('/')}: tshark ${x.tshark[1]}/${x.tshark[0]} frames${x.zeek ? `, ICSNPP ${x.zeek[2]}/${x.zeek[1]} transactions` : ''}`, (t) => {
    const file = sharedData(t, ...dir, `${name}.pcap`);
    const csv = sharedData(t, ...dir, 'expected-tshark', `${name}.opcua.csv`);
    if (!file || !csv) return;
    // The non-standard-port trace is found by its HEL, with no port configured.
    const { events } = decodeTrace(file, x.ports ? { ports: x.ports } : {});
    assert.equal(events.length, x.events);
    assert.deepEqual(
      events.filter((e) => e.action === 'opcua.malformed').map((e) => e.fields.frame),
      [],
    );
    const f = compareWithTshark(csv, events);
    assert.deepEqual([f.frames, f.agree, f.agreeTransport], x.tshark, JSON.stringify(f.disagree.slice(0, 5)));
    assert.deepEqual(f.extra, x.extra ?? []);
    if (!x.zeek) return;
    const log = sharedData(t, ...dir, 'expected', x.zeek[0], 'opcua_binary.log');
    if (!log) return;
    const z = compareWithZeek(log, events);
    assert.deepEqual([z.rows, z.agree, z.onlyOurs.length], x.zeek.slice(1), JSON.stringify(z.onlyZeek));
  });
}

describe('OPC UA ground truth: ICSNPP test traces (tshark and opcua_binary.log)', () => {
  for (const [name, x] of Object.entries(TESTS)) check(['opcua', 'icsnpp'], name, x);
});

describe('OPC UA ground truth: ICSNPP sample captures (tshark)', () => {
  for (const [name, x] of Object.entries(SAMPLES)) check(['opcua', 'icsnpp', 'pcaps'], name, x);
});

/**
 * nDPI's CoAP capture (IPv6 probes GET/POST/PUT/DELETE, a 4.05 rejection, a full session with
 * separate responses and a storage resource) through our decoder, compared with tshark's
 * reading of every frame: version, type, code, message id, token, Uri-Path, Content-Format.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  COAP_CONTENT_FORMATS,
  COAP_TYPES,
  decodeCoapMessage,
  describeCoapMessage,
} from '../../../protocols/coap/index.ts';
import { decodePacket, readCapture } from '../../../protocols/pcap/index.ts';
import { sharedData } from '../../support/env.ts';
import { readTsharkCsv } from '../syslog/traces.ts';

test('nDPI coap_mqtt.pcap: every CoAP frame as tshark reads it', (t) => {
  const pcap = sharedData(t, 'ndpi', 'coap_mqtt.pcap');
  const csv = sharedData(t, 'ndpi', 'expected-tshark', 'coap_mqtt.coap.csv');
  if (!pcap || !csv) return;
  const capture = readCapture(readFileSync(pcap));
  const rows = readTsharkCsv(csv);
  assert.equal(rows.length, 19);
  for (const row of rows) {
    const frame = capture.packets[Number(row['frame.number']) - 1]!;
    const d = decodePacket(frame.linkType, frame.data);
    assert.ok(d.ok && d.packet.proto === 'udp');
    const where = `frame ${row['frame.number']}`;
    assert.equal(d.packet.srcPort, Number(row['udp.srcport']), where);
    const r = decodeCoapMessage(d.packet.payload);
    assert.ok(r.ok, `${where}: ${JSON.stringify(r)}`);
    const m = r.message;
    const info = describeCoapMessage(m);
    assert.equal(String(m.version), row['coap.version'], `${where} version`);
    assert.equal(String(COAP_TYPES.indexOf(m.type)), row['coap.type'], `${where} type`);
    assert.equal(String(m.code), row['coap.code'], `${where} code`);
    assert.equal(String(m.messageId), row['coap.mid'], `${where} message id`);
    assert.equal(Buffer.from(m.token).toString('hex'), row['coap.token'], `${where} token`);
    if (row['coap.opt.uri_path']) {
      assert.equal(info.pathSegments.join(';'), row['coap.opt.uri_path'], `${where} Uri-Path`);
      assert.equal(info.path, row['coap.opt.uri_path_recon'], `${where} path`);
    }
    if (row['coap.opt.ctype']) {
      assert.equal(
        COAP_CONTENT_FORMATS[info.contentFormat ?? -1],
        row['coap.opt.ctype'],
        `${where} Content-Format`,
      );
    }
  }
});

/**
 * Issue 15 item 10: oversized or mis-framed TCP/TLS syslog frames (RFC 6587) were only counted in
 * metrics, although the config promises a `syslog.parse_error` event. Over real sockets: an
 * oversized octet-counted frame, an oversized LF frame and a bad octet count each produce the
 * event (with the peer), over TCP and over TLS; a flood of bad frames produces a bounded number of
 * events whose counts (one each, plus `suppressed`) add up to the frames sent.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { Source } from '../../gateway/pipeline/types.ts';
import { syslogSourceSchema } from '../../gateway/sources/syslog/config.ts';
import { createSyslogSource } from '../../gateway/sources/syslog/index.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { requireTool, waitFor } from '../support/env.ts';
import { makeTestPki } from '../support/tls.ts';
import { portOf, type RecordingContext, recordingContext } from '../gateway/sources/support.ts';

const MAX = 1024;
const GOOD = '<34>1 2003-10-11T22:14:15.003Z host app - - - fine';

/** Sends `payload` on a fresh TCP connection and closes it once written. */
function sendTcp(port: number, payload: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(payload));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

const parseErrors = (ctx: RecordingContext) => ctx.byAction('syslog.parse_error');

/** Errors accounted for by the events: one each (bar summaries) plus what they carry. */
const accounted = (events: PendingEvent[]) =>
  events.reduce(
    (n, e) => n + (e.fields.code === 'rate_limited' ? 0 : 1) + Number(e.fields.suppressed ?? 0),
    0,
  );

async function start(ctx: RecordingContext, extra: Record<string, unknown> = {}): Promise<Source> {
  const source = createSyslogSource(
    'syslog_in',
    syslogSourceSchema.parse({
      type: 'syslog',
      mode: 'tcp',
      listen: '127.0.0.1:0',
      max_message_bytes: MAX,
      ...extra,
    }),
    ctx,
  );
  await source.start();
  return source;
}

describe('TCP syslog framing errors are events', () => {
  let ctx: RecordingContext;
  let source: Source;
  before(async () => {
    ctx = recordingContext();
    source = await start(ctx);
  });
  after(() => source.stop());

  it('an oversized octet-counted frame, an oversized LF frame and a bad count each make one', async () => {
    const big = 'x'.repeat(MAX + 10);
    await sendTcp(portOf(source), `${big.length} ${big}${GOOD.length} ${GOOD}`);
    await sendTcp(portOf(source), `${big}\n${GOOD}\n`);
    await sendTcp(portOf(source), `12ab fine\n${GOOD}\n`);
    const events = await waitFor(() => (parseErrors(ctx).length >= 3 ? parseErrors(ctx) : undefined), {
      what: 'three syslog.parse_error events',
    });
    assert.deepEqual(
      events.map((e) => e.fields.code),
      ['frame_too_large', 'frame_too_large', 'invalid_length'],
    );
    for (const e of events) {
      assert.equal(e.kind, 'health');
      assert.equal(e.fields.transport, 'tcp');
      assert.equal(e.src?.ip, '127.0.0.1');
    }
    assert.equal(events[0]!.fields.bytes, MAX + 10);
    // The stream stays in sync: the good message after each bad frame still arrives.
    await waitFor(() => (ctx.byAction('syslog.message').length >= 3 ? true : undefined), {
      what: 'the good messages',
    });
  });

  it('a flood of bad frames makes a bounded number of events whose counts add up', async () => {
    const before = parseErrors(ctx).length;
    const frames = 500;
    const big = 'y'.repeat(MAX + 1);
    const payload = Array.from({ length: frames }, () => `${big.length} ${big}`).join('');
    const t0 = Date.now();
    await Promise.all([sendTcp(portOf(source), payload), sendTcp(portOf(source), payload)]);
    const events = await waitFor(
      () => {
        const e = parseErrors(ctx).slice(before);
        return accounted(e) >= 2 * frames ? e : undefined;
      },
      { what: 'every bad frame accounted for', timeoutMs: 10_000 },
    );
    const secs = Math.max(1, Math.ceil((Date.now() - t0) / 1000));
    assert.equal(accounted(events), 2 * frames, 'the counts add up');
    // At most 10 a second (the default) plus one summary per second.
    assert.ok(events.length <= 11 * (secs + 1), `${events.length} events in ${secs} s`);
    assert.ok(events.length < 100, `${events.length} events`);
    assert.ok(events.some((e) => Number(e.fields.suppressed ?? 0) > 0));
  });
});

describe('TLS syslog framing errors are events', () => {
  it('an oversized octet-counted frame over TLS', async (t) => {
    if (!requireTool(t, 'openssl', 'openssl')) return;
    const pki = makeTestPki();
    const ctx = recordingContext();
    const source = createSyslogSource(
      'syslog_tls',
      syslogSourceSchema.parse({
        type: 'syslog',
        mode: 'tls',
        listen: '127.0.0.1:0',
        max_message_bytes: MAX,
        tls: { cert_file: pki.serverCert, key_file: pki.serverKey },
      }),
      ctx,
    );
    await source.start();
    t.after(() => source.stop());
    const big = 'z'.repeat(MAX * 2);
    await new Promise<void>((resolve, reject) => {
      const s = tls.connect(
        { host: '127.0.0.1', port: portOf(source, 'tls'), ca: pki.read(pki.caFile), servername: 'localhost' },
        () => s.end(`${big.length} ${big}`),
      );
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    const e = await ctx.waitEvent((x) => x.action === 'syslog.parse_error', 'a TLS parse error');
    assert.equal(e.fields.code, 'frame_too_large');
    assert.equal(e.fields.transport, 'tls');
    assert.equal(e.fields.bytes, MAX * 2);
  });
});

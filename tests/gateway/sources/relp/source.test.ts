/**
 * The RELP source driven by a raw RELP client over a real socket: the `200 OK` of a syslog
 * transaction is held back until its event is durable; `open` negotiates the offers; frames
 * resent on a new session after their answer was lost are stored once (in one process, and
 * across a restart through the state stored with the events); a message over the cap is
 * truncated and tagged; protocol errors end the session with a 500 and a relp.protocol_error
 * event; the window stops reading a session with too many unanswered transactions.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import type { EmitOptions, Source } from '../../../../gateway/pipeline/types.ts';
import { relpSourceSchema } from '../../../../gateway/sources/relp/config.ts';
import { createRelpSource } from '../../../../gateway/sources/relp/index.ts';
import { createRelpDeframer, encodeRelpFrame, type RelpFrame } from '../../../../protocols/relp/index.ts';
import { waitFor } from '../../../support/env.ts';
import { portOf, type RecordingContext, recordingContext } from '../support.ts';

const OPEN = 'relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog';

/** A recording context that also keeps the state stored with emits, as the queue does. */
function statefulContext(): RecordingContext & { state: Map<string, string> } {
  const base = recordingContext();
  const state = new Map<string, string>();
  const emit = base.emit.bind(base);
  return Object.assign(base, {
    state,
    async emit(events: Parameters<typeof emit>[0], options?: EmitOptions) {
      await emit(events);
      for (const [k, v] of Object.entries(options?.state ?? {})) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
    },
    readState: async (prefix: string) => new Map([...state].filter(([k]) => k.startsWith(prefix))),
  });
}

class RelpClient {
  readonly frames: RelpFrame[] = [];
  closed = false;
  private constructor(readonly socket: net.Socket) {
    const d = createRelpDeframer({ maxDataBytes: 4096 });
    socket.on('data', (c: Buffer) => this.frames.push(...d.push(c).frames));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }
  static connect(port: number): Promise<RelpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RelpClient(s)));
      s.once('error', reject);
    });
  }
  send(txnr: number, command: string, data = '') {
    this.socket.write(encodeRelpFrame(txnr, command, data));
  }
  rsp(txnr: number, timeoutMs = 5000) {
    return waitFor(() => this.frames.find((f) => f.command === 'rsp' && f.txnr === txnr), {
      what: `rsp ${txnr}`,
      timeoutMs,
    });
  }
  text = (f: RelpFrame) => Buffer.from(f.data).toString();
}

const sources: Source[] = [];
after(async () => {
  for (const s of sources) await s.stop();
});

async function start(ctx: RecordingContext, extra: Record<string, unknown> = {}) {
  const source = createRelpSource(
    'relp_in',
    relpSourceSchema.parse({ type: 'relp', listen: '127.0.0.1:0', ...extra }),
    ctx,
  );
  sources.push(source);
  await source.start();
  return source;
}

const line = (n: number) => `<13>Dec  5 12:00:00 plc-1 app: line ${n}`;
const lines = (ctx: RecordingContext) =>
  ctx.events.filter((e) => /^line \d+$/.test(e.message)).map((e) => e.message);

describe('RELP source', () => {
  it('answers open with its offers, and a syslog transaction only once its event is durable', async () => {
    const ctx = recordingContext();
    const source = await start(ctx);
    const c = await RelpClient.connect(portOf(source));
    c.send(1, 'open', OPEN);
    const open = await c.rsp(1);
    assert.equal(c.text(open), '200 OK\nrelp_version=0\nrelp_software=edge-siem,1,-\ncommands=syslog');
    ctx.hold = true;
    c.send(2, 'syslog', line(1));
    await waitFor(() => (ctx.hold ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.frames.filter((f) => f.txnr === 2).length, 0, 'no answer before the write is durable');
    ctx.release();
    assert.equal(c.text(await c.rsp(2)), '200 OK');
    const e = ctx.events.find((x) => x.message === 'line 1')!;
    assert.equal(e.fields.transport, 'relp');
    assert.equal(e.host, 'plc-1');
    c.send(3, 'close');
    assert.equal(c.text(await c.rsp(3)), '200 OK');
    await waitFor(() => (c.closed ? true : undefined), { what: 'the server to end the session' });
  });

  it('stores once the frames resent on a new session after their answers were lost', async () => {
    const ctx = statefulContext();
    const source = await start(ctx);
    const a = await RelpClient.connect(portOf(source));
    a.send(1, 'open', OPEN);
    await a.rsp(1);
    ctx.hold = true;
    for (let i = 0; i < 3; i++) a.send(2 + i, 'syslog', line(100 + i));
    await new Promise((r) => setTimeout(r, 200));
    a.socket.destroy(); // the sender never sees the answers
    // librelp reopens and resends what it holds unanswered, then goes on.
    const b = await RelpClient.connect(portOf(source));
    b.send(1, 'open', OPEN);
    await b.rsp(1);
    for (let i = 0; i < 4; i++) b.send(2 + i, 'syslog', line(100 + i));
    ctx.release();
    await b.rsp(5);
    assert.deepEqual(lines(ctx), ['line 100', 'line 101', 'line 102', 'line 103']);
    const dropped = (await ctx.metrics.dropped.get()).values.find(
      (v) => v.labels.reason === 'relp_retransmission',
    );
    assert.equal(dropped?.value, 3);
    // The same line again later in the session is a new line: each stored digest matches once.
    b.send(6, 'syslog', line(100));
    await b.rsp(6);
    assert.equal(lines(ctx).filter((l) => l === 'line 100').length, 2);
  });

  it('stores once across a restart: the digests are stored with the events', async () => {
    const ctx = statefulContext();
    const first = await start(ctx);
    const a = await RelpClient.connect(portOf(first));
    a.send(1, 'open', OPEN);
    await a.rsp(1);
    for (let i = 0; i < 5; i++) a.send(2 + i, 'syslog', line(200 + i));
    await a.rsp(6);
    await first.stop();
    assert.ok([...ctx.state.keys()].some((k) => k === 'relp/relp_in/127.0.0.1'));
    // The "restarted" gateway: a new source reading the stored state.
    const second = await start(ctx);
    const b = await RelpClient.connect(portOf(second));
    b.send(1, 'open', OPEN);
    await b.rsp(1);
    for (let i = 3; i < 8; i++) b.send(i - 1, 'syslog', line(200 + i)); // 203, 204 again, then new
    await b.rsp(6);
    assert.deepEqual(
      lines(ctx),
      [200, 201, 202, 203, 204, 205, 206, 207].map((n) => `line ${n}`),
    );
  });

  it('with dedupe_window 0 a resent frame is stored again (the check is what prevents it)', async () => {
    const ctx = statefulContext();
    const source = await start(ctx, { dedupe_window: 0 });
    for (let round = 0; round < 2; round++) {
      const c = await RelpClient.connect(portOf(source));
      c.send(1, 'open', OPEN);
      await c.rsp(1);
      c.send(2, 'syslog', line(300));
      await c.rsp(2);
      c.socket.destroy();
    }
    assert.deepEqual(lines(ctx), ['line 300', 'line 300']);
  });

  it('truncates a message over max_message_bytes, tags it, and still answers 200', async () => {
    const ctx = recordingContext();
    const source = await start(ctx, { max_message_bytes: 480 });
    const c = await RelpClient.connect(portOf(source));
    c.send(1, 'open', OPEN);
    await c.rsp(1);
    c.send(2, 'syslog', `<13>Dec  5 12:00:00 plc-1 app: ${'x'.repeat(5000)}`);
    c.send(3, 'syslog', line(400));
    assert.equal(c.text(await c.rsp(2)), '200 OK');
    await c.rsp(3);
    const big = ctx.events.find((e) => e.tags.includes('truncated'))!;
    assert.equal(big.fields.relp_declared_bytes, 5031);
    assert.ok(lines(ctx).includes('line 400'));
  });

  it('refuses syslog before open, and a broken frame, with a 500 and an event', async () => {
    const ctx = recordingContext();
    const source = await start(ctx);
    const c = await RelpClient.connect(portOf(source));
    c.send(1, 'syslog', line(500));
    assert.match(c.text(await c.rsp(1)), /^500 syslog before open/);
    await waitFor(() => (c.closed ? true : undefined));
    const d = await RelpClient.connect(portOf(source));
    d.send(1, 'open', OPEN);
    await d.rsp(1);
    d.socket.write('2 syslog 5 abcdeX');
    await waitFor(() => (d.closed ? true : undefined));
    const errors = await waitFor(() => {
      const e = ctx.byAction('relp.protocol_error');
      return e.length >= 2 ? e : undefined;
    });
    assert.deepEqual(errors.map((e) => e.fields.code).sort(), ['bad_trailer', 'not_open']);
    assert.equal(errors[0]!.src?.ip, '127.0.0.1');
    assert.equal(lines(ctx).length, 0);
  });

  for (const [what, extra] of [
    ['max_window transactions', { max_window: 4 }],
    ['max_window_bytes of data', { max_window_bytes: 65_536 }],
  ] as const)
    it(`stops reading a session with ${what} unanswered (the sender's data waits in TCP)`, async () => {
      const ctx = recordingContext();
      const source = await start(ctx, { max_message_bytes: 65_536, ...extra });
      const c = await RelpClient.connect(portOf(source));
      c.send(1, 'open', OPEN);
      await c.rsp(1);
      ctx.hold = true;
      const body = `<13>Dec  5 12:00:00 plc-1 app: ${'y'.repeat(50_000)}`;
      const n = 400; // 20 MB: far more than the kernel's socket buffers hold
      for (let i = 0; i < n; i++) c.send(2 + i, 'syslog', body);
      await new Promise((r) => setTimeout(r, 1500));
      // Were the session read regardless, the client's buffer would have drained into the gateway.
      assert.ok(
        c.socket.writableLength > 8_000_000,
        `still waiting in the sender: ${c.socket.writableLength} bytes`,
      );
      ctx.release();
      await c.rsp(1 + n, 60_000);
      assert.equal(ctx.events.length, n);
    });
});

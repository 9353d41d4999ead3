/**
 * The TCP syslog source hands a read's frames to the pipeline in slices of at most 32 events
 * (issue 18 ask 3): decoded all at once, the hundreds of events of one read outlived two of V8's
 * young-generation collections and were copied to old space. Every frame still arrives, in the
 * order sent, and the socket is still paused while emits wait for the queue.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import type { PendingEvent } from '../../../../protocols/event/schema.ts';
import { createSyslogStreamSource } from '../../../../gateway/sources/syslog/stream.ts';
import { syslogSourceSchema } from '../../../../gateway/sources/syslog/config.ts';
import { waitFor } from '../../../support/env.ts';
import { portOf, recordingContext } from '../support.ts';

const stops: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe('syslog TCP source slices', () => {
  it('emits one read of 500 lines in slices of at most 32, all of them, in order', async () => {
    const ctx = recordingContext();
    const sizes: number[] = [];
    const emit = ctx.emit.bind(ctx);
    ctx.emit = (events: PendingEvent[]) => {
      sizes.push(events.length);
      return emit(events);
    };
    const config = syslogSourceSchema.parse({ type: 'syslog', mode: 'tcp', listen: '127.0.0.1:0' });
    const source = createSyslogStreamSource('tcp', config, ctx);
    await source.start();
    stops.push(() => source.stop());
    const lines = Array.from({ length: 500 }, (_, k) => `<13>Dec  6 06:00:00 plc-1 app: line ${k}\n`);
    const socket = net.connect(portOf(source), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // One write of ~20 KB: read in one or a few chunks of hundreds of frames each.
    socket.end(lines.join(''));
    await waitFor(() => (ctx.events.length >= 500 ? true : undefined), { what: '500 events' });
    assert.deepEqual(
      ctx.events.map((e) => e.message),
      lines.map((_, k) => `line ${k}`),
    );
    assert.ok(Math.max(...sizes) <= 32, `emits of ${Math.max(...sizes)} events`);
    assert.ok(sizes.length >= Math.ceil(500 / 32), `${sizes.length} emits`);
  });
});

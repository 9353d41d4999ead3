/**
 * Test helpers for the link: a pending event maker and a raw protocol client that speaks to
 * central the way a gateway would (or a broken or hostile one).
 */
import WebSocket from 'ws';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { signLinkProof } from '../../protocols/link/auth.ts';
import { decodeLinkMessage, encodeLinkMessage, type LinkMessage } from '../../protocols/link/codec.ts';
import { waitFor } from './env.ts';

export function pending(message: string, kind: PendingEvent['kind'] = 'telemetry'): PendingEvent {
  const now = new Date().toISOString();
  return {
    ts: now,
    received: now,
    source: 'syslog',
    kind,
    action: 'syslog.message',
    severity: 5,
    message,
    fields: {},
    tags: [],
  };
}

/** A raw protocol client, to speak to central the way a (possibly broken) gateway would. */
export async function rawClient(url: string) {
  const ws = new WebSocket(url);
  const inbox: LinkMessage[] = [];
  ws.on('message', (data) => {
    const decoded = decodeLinkMessage(data.toString());
    if (decoded.ok) inbox.push(decoded.message);
  });
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = <T extends LinkMessage['type']>(type: T) =>
    waitFor(
      () => {
        const i = inbox.findIndex((m) => m.type === type);
        return i >= 0 ? (inbox.splice(i, 1)[0] as Extract<LinkMessage, { type: T }>) : undefined;
      },
      { what: `a ${type} message` },
    );
  return {
    send: (m: LinkMessage) => ws.send(encodeLinkMessage(m)),
    next,
    /** The types of the messages received and not yet taken by `next`, oldest first. */
    unread: () => inbox.map((m) => m.type),
    /** Answers the challenge as `gateway` with `privateKey`, the way the forwarder does. */
    async hello(gateway: string, privateKey: string, v = 1) {
      const challenge = await next('challenge');
      ws.send(
        encodeLinkMessage({
          type: 'hello',
          v,
          gateway,
          sent_at: Date.now(),
          proof: signLinkProof(privateKey, gateway, challenge.nonce),
        }),
      );
    },
    closed,
    close: () => ws.close(),
  };
}

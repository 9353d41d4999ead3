/**
 * CoAP discovery scan from the attacker's address: GET /.well-known/core (RFC 6690 §4), then
 * GETs of paths scanners guess (configuration, firmware, admin), as confirmable requests built
 * with the project's CoAP codec (RFC 7252 §3) over one UDP socket.
 */
import dgram from 'node:dgram';
import { COAP_OPTION, decodeCoapMessage, encodeCoapMessage } from '../../protocols/coap/index.ts';
import type { Scenario } from './types.ts';

const GUESSES = [
  '/.well-known/core',
  '/config',
  '/fw',
  '/firmware',
  '/admin',
  '/sensors',
  '/readings',
  '/status',
];

/** Uri-Path options (RFC 7252 §5.10.1), one per segment. */
function uriPath(path: string) {
  return path
    .split('/')
    .filter(Boolean)
    .map((segment) => ({ number: COAP_OPTION.URI_PATH, value: new TextEncoder().encode(segment) }));
}

export const coapDiscovery: Scenario = {
  name: 'coap-discovery',
  description: 'GET /.well-known/core and guessed paths from an unknown address',
  expects: ['CoAP resource discovery', 'CoAP amplification risk or requests from unknown sources'],
  async run(t, { log } = {}) {
    log?.(`${t.attackerAddress} → CoAP GET ${GUESSES.join(' ')}`);
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, t.attackerAddress, () => resolve());
    });
    const answers = new Map<number, string>();
    socket.on('message', (msg) => {
      const decoded = decodeCoapMessage(msg);
      if (decoded.ok) answers.set(decoded.message.messageId, decoded.message.codeText);
    });
    const base = Math.floor(Math.random() * 60_000);
    try {
      for (const [i, path] of GUESSES.entries()) {
        const bytes = encodeCoapMessage({
          type: 'CON',
          code: 1, // 0.01 GET
          messageId: base + i,
          token: Uint8Array.of(i + 1),
          options: uriPath(path),
        });
        await new Promise<void>((resolve) => socket.send(bytes, t.coap.port, t.coap.host, () => resolve()));
      }
      // Give the server time to answer what it will (a scanner does not retransmit).
      const deadline = Date.now() + 2000;
      while (answers.size < GUESSES.length && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      socket.close();
    }
    const codes = [...answers.values()].join(' ');
    return `CoAP scan: ${GUESSES.length} requests, ${answers.size} answered (${codes})`;
  },
};

/**
 * A DNS server for the enrichment tests: answers PTR queries from a map (or never, `silent`),
 * on a UDP socket bound to an ephemeral port, and records the names asked for; answers can be
 * held back until a promise resolves.
 */
import { createSocket, type Socket } from 'node:dgram';

/** A DNS server answering PTR queries from `names` (in-addr.arpa name → host name). */
export async function startPtrServer(
  names: Map<string, string>,
  { silent = false, gate = Promise.resolve() }: { silent?: boolean; gate?: Promise<void> } = {},
): Promise<{ socket: Socket; address: string; queries: string[] }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, peer) => {
    let off = 12;
    const labels: string[] = [];
    while (off < msg.length && msg[off]! > 0) {
      labels.push(msg.subarray(off + 1, off + 1 + msg[off]!).toString('latin1'));
      off += 1 + msg[off]!;
    }
    const qname = labels.join('.').toLowerCase();
    queries.push(qname);
    if (silent) return;
    const question = msg.subarray(12, off + 5);
    const name = names.get(qname);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(name ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(name ? 1 : 0, 6);
    const parts = [header, question];
    if (name) {
      const rdata = Buffer.concat([
        ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
        Buffer.from([0]),
      ]);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(12, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      parts.push(rr, rdata);
    }
    // Answers once `gate` resolves (a test holds them back until it is ready).
    void gate.then(() => socket.send(Buffer.concat(parts), peer.port, peer.address));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, address: `127.0.0.1:${socket.address().port}`, queries };
}

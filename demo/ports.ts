/**
 * Port selection for the demo: use the preferred port when it is free (on TCP, and on UDP too
 * when asked), otherwise let the OS pick one. The demo prints whatever it got.
 */
import dgram from 'node:dgram';
import net from 'node:net';

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

/** The preferred port if free, else a free port chosen by the OS (free on UDP too when `udp`). */
export async function pickPort(host: string, preferred: number, { udp = false } = {}): Promise<number> {
  const usable =
    preferred > 0 && (await tcpFree(host, preferred)) && (!udp || (await udpFree(host, preferred)));
  if (usable) return preferred;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer();
      server.listen(0, host, () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    if (!udp || (await udpFree(host, port))) return port;
  }
  throw new Error('no free port found');
}

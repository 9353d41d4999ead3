/**
 * Simulated CoAP sensors (RFC 7252): each POSTs (or PUTs, every other reading) a JSON reading
 * (vibration, temperature) to `/readings/<id>` on the gateway's CoAP server as a confirmable
 * request every `intervalMs`, the way constrained field devices report. Uses the `coap` package
 * as the client; one UDP socket per sensor bound to `localAddress`, so each sensor has its own
 * endpoint. Used by `npm start` and the tests.
 */
import dgram from 'node:dgram';
import coap from 'coap';

export interface CoapSensorsOptions {
  host: string;
  port: number;
  /** Number of sensors, `vib-01`… (default 3). */
  count?: number;
  /** Time between two readings of one sensor (default 5000 ms). */
  intervalMs?: number;
  /** Local address the sensors send from (default 127.0.0.1). */
  localAddress?: string;
  prefix?: string;
}

export function coapReadingPath(id: string): string {
  return `/readings/${id}`;
}

export function startCoapSensors(options: CoapSensorsOptions) {
  const count = options.count ?? 3;
  const intervalMs = options.intervalMs ?? 5000;
  let acknowledged = 0;
  let failed = 0;
  const agents: Array<InstanceType<typeof coap.Agent>> = [];
  const sockets: dgram.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let n = 0; n < count; n += 1) {
    const id = `${options.prefix ?? 'vib'}-${String(n + 1).padStart(2, '0')}`;
    const socket = dgram.createSocket('udp4');
    socket.bind(0, options.localAddress ?? '127.0.0.1');
    sockets.push(socket);
    const agent = new coap.Agent({ type: 'udp4', socket });
    agents.push(agent);
    let readings = 0;
    const send = () => {
      readings += 1;
      const t = Date.now() / 60_000 + n;
      const req = coap.request({
        hostname: options.host,
        port: options.port,
        pathname: coapReadingPath(id),
        method: readings % 2 === 0 ? 'PUT' : 'POST',
        confirmable: true,
        agent,
      });
      req.setOption('Content-Format', 'application/json');
      req.on('response', (res) => {
        if (String(res.code).startsWith('2')) acknowledged += 1;
        else failed += 1;
        res.resume();
      });
      req.on('error', () => {
        failed += 1;
      });
      req.end(
        JSON.stringify({
          vibration_mm_s: Math.round((2 + Math.abs(Math.sin(t * 4))) * 100) / 100,
          temperature: Math.round((38 + 4 * Math.sin(t)) * 10) / 10,
        }),
      );
    };
    const start = setTimeout(
      () => {
        send();
        timers.push(setInterval(send, intervalMs));
      },
      (intervalMs * n) / count,
    );
    timers.push(start);
  }
  return {
    /** Readings the server acknowledged with 2.xx. */
    acknowledged: () => acknowledged,
    failed: () => failed,
    stop(): void {
      for (const t of timers) clearTimeout(t);
      for (const a of agents) a.close();
      // An agent never closes a socket it was given: without this the process cannot exit.
      for (const s of sockets) s.close();
    },
  };
}

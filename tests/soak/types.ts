/**
 * What the soak's driver (tests/soak/run-soak.ts) and its load generator (tests/soak/loadgen.ts,
 * a child process) tell each other: the load's targets and rate, the restart phases, and the
 * per-connection record of what was sent, which the verification compares with what central
 * stored. Each load message carries `<stream><conn>.<i>`: its connection and its index on it.
 */

/** The load's streams: syslog over TCP and UDP, MQTT QoS 1 publishes, Modbus reads (FC 3). */
export type Stream = 'tcp' | 'udp' | 'mqtt' | 'modbus';
export const STREAMS: readonly Stream[] = ['tcp', 'udp', 'mqtt', 'modbus'];

/**
 * Share of the configured rate (events/s the gateway receives) per stream. A Modbus read is two
 * events (request and response), so its reads run at half its share.
 */
export const MIX: Record<Stream, number> = { tcp: 0.45, udp: 0.05, mqtt: 0.3, modbus: 0.2 };

export interface LoadConfig {
  host: string;
  ports: { syslogTcp: number; syslogUdp: number; mqtt: number; modbus: number };
  /** Events per second over all streams. */
  rate: number;
  /** MQTT users the gateway's broker knows (one per client, publishing plant/soak/<user>/...). */
  mqttUsers: Array<{ username: string; password: string; address: string }>;
  /** Where the Modbus load connects from (a master the proxy's policy allows). */
  modbusAddress: string;
  modbusUnitId: number;
  tcpConnections: number;
  modbusConnections: number;
}

/** One connection (or, for UDP, one socket) of the load and what went over it. */
export interface ConnRecord {
  stream: Stream;
  conn: number;
  /** Messages written (indexes 0..sent-1). */
  sent: number;
  /** MQTT: indexes whose PUBACK never came (the connection closed first). */
  unacked?: number[];
  /** Modbus: responses received. */
  answered?: number;
  /** Why it ended: `kill` (the gateway was being killed), `end` (the load stopped), or `broken`. */
  ended: 'kill' | 'end' | 'broken' | 'open';
  /** UDP: datagrams sent while the gateway was down (no listener: lost by design). */
  sentWhileDown?: number;
  /** UDP: the index of the first datagram sent after the kill notice (none of the later ones
   * can have reached the killed gateway's predecessor runs, all of them may reach the new one). */
  indexAtKill?: number;
}

/** Driver → load generator. */
export type ToLoad =
  { type: 'start'; config: LoadConfig } | { type: 'phase'; gatewayDown: boolean } | { type: 'stop' };

/** Load generator → driver. */
export type FromLoad =
  | { type: 'ready' }
  | { type: 'stats'; sent: Record<Stream, number>; behind: Record<Stream, number> }
  | { type: 'final'; conns: ConnRecord[]; behind: Record<Stream, number> };

/** The marker a syslog load line ends with: ` soak=T3.1234` (stream letter, connection, index). */
export const SYSLOG_MARKER = 'soak=';

/**
 * The Modbus read that carries index `i` of a connection: transaction id `i mod 65536`, and the
 * (address, quantity) pair number `(i div 65536 + tid) mod 5050` among the 5,050 reads that fit in
 * holding registers 0-99 (a + q <= 100), so the request alone names `i` (below 330 million) and
 * the reads wander over the block like an HMI's would.
 */
export const MODBUS_PAIRS: ReadonlyArray<readonly [number, number]> = (() => {
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < 100; a += 1) for (let q = 1; a + q <= 100; q += 1) pairs.push([a, q]);
  return pairs;
})();

export function modbusRead(i: number): { tid: number; address: number; quantity: number } {
  const tid = i % 65536;
  const hi = Math.floor(i / 65536);
  const [address, quantity] = MODBUS_PAIRS[(hi + tid) % MODBUS_PAIRS.length]!;
  return { tid, address, quantity };
}

/** The inverse of `modbusRead`, in SQL over `tid`, `a`, `q` (pair number a*100 - a(a-1)/2 + q-1). */
export const MODBUS_INDEX_SQL =
  '((((a * 100 - (a * (a - 1)) / 2 + q - 1) - tid) % 5050 + 5050) % 5050) * 65536 + tid';

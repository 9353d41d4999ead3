/**
 * What the store-and-forward fault tests share: counting what central stored for a gateway,
 * straight from SQL, and sending syslog lines over TCP as fast as the socket takes them.
 */
import net from 'node:net';
import pg from 'pg';

export type Counts = { total: number; distinct: number; max: number };

export async function stored(url: string, gateway: string, like = '%'): Promise<Counts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS total, count(DISTINCT seq)::int AS distinct, coalesce(max(seq), 0)::int AS max
         FROM events WHERE gateway = $1 AND message LIKE $2`,
      [gateway, like],
    );
    return rows[0] as Counts;
  } finally {
    await client.end();
  }
}

/** Sends `count` syslog lines over one TCP connection as fast as the socket takes them. */
export async function sendTcpSyslog(port: number, prefix: string, count: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  for (let i = 0; i < count; i += 1) {
    const line = `<13>1 ${new Date().toISOString()} plc-7 app - - - ${prefix} ${i}\n`;
    if (!socket.write(line)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

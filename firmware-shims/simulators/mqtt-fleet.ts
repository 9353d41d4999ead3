/**
 * A fleet of simulated MQTT sensors: each has its own user name, password and client id (as
 * the embedded broker expects: one identity per device, an ACL per user) and publishes a JSON
 * reading (temperature, humidity, battery) on `plant/<area>/<id>/telemetry` every `intervalMs`,
 * spread over the interval so the broker sees a steady stream rather than bursts. Used by
 * `npm start` and the tests; the scenarios use one sensor's credentials as "stolen" ones.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface MqttSensor {
  /** Client id and user name. */
  id: string;
  password: string;
}

export interface MqttFleetOptions {
  host: string;
  port: number;
  sensors: MqttSensor[];
  /** Time between two readings of one sensor (default 5000 ms). */
  intervalMs?: number;
  /** Topic area (default `line2`). */
  area?: string;
  qos?: 0 | 1;
}

/** `count` sensors `th-01`… with fresh random passwords. */
export function mqttSensors(count: number, prefix = 'th'): MqttSensor[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i + 1).padStart(2, '0')}`,
    password: randomBytes(12).toString('base64url'),
  }));
}

export function mqttTelemetryTopic(id: string, area = 'line2'): string {
  return `plant/${area}/${id}/telemetry`;
}

/** One reading of sensor number `n` at time `t` (ms): slow sine waves, distinct per sensor. */
export function mqttReading(n: number, t: number) {
  const phase = t / 60_000 + n;
  return {
    temperature: Math.round((21 + 3 * Math.sin(phase)) * 10) / 10,
    humidity: Math.round(45 + 10 * Math.sin(phase / 3)),
    battery: Math.max(5, 100 - (Math.floor(t / 600_000) % 95)),
  };
}

export function startMqttFleet(options: MqttFleetOptions) {
  const intervalMs = options.intervalMs ?? 5000;
  let published = 0;
  const clients: MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  options.sensors.forEach((sensor, n) => {
    const client = mqtt.connect({
      host: options.host,
      port: options.port,
      clientId: sensor.id,
      username: sensor.id,
      password: sensor.password,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
    });
    client.on('error', () => undefined);
    clients.push(client);
    const publish = () => {
      if (!client.connected) return;
      const payload = JSON.stringify(mqttReading(n, Date.now()));
      client.publish(mqttTelemetryTopic(sensor.id, options.area), payload, { qos: options.qos ?? 0 }, (e) => {
        if (!e) published += 1;
      });
    };
    // Spread the sensors over the interval; each sends a first reading once connected.
    client.once('connect', publish);
    const start = setTimeout(
      () => {
        timers.push(setInterval(publish, intervalMs));
      },
      (intervalMs * n) / Math.max(1, options.sensors.length),
    );
    timers.push(start);
  });
  return {
    /** Readings handed to the broker (acknowledged at QoS 1). */
    published: () => published,
    connected: () => clients.filter((c) => c.connected).length,
    async stop(): Promise<void> {
      for (const t of timers) clearTimeout(t);
      await Promise.all(clients.map((c) => c.endAsync(true)));
    },
  };
}

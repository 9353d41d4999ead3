/**
 * Config of the passive `capture` source: the gateway listens on a mirror (SPAN) port or a tap
 * by running Debian's `dumpcap` on `interface` with a BPF filter, reads its pcapng stream and
 * decodes Modbus/TCP, MQTT, CoAP, syslog and the OT protocols (DNP3, S7comm, EtherNet/IP-CIP,
 * BACnet, OPC UA) into the same events as the proxy, the broker, the
 * CoAP server and the listeners. Nothing is
 * sent on the wire. Without `filter`, one is built from the port lists, so the kernel drops the
 * traffic the gateway would ignore anyway.
 */
import { z } from 'zod';

const ports = (what: string, defaults: number[]) =>
  z
    .array(z.number().int().min(1).max(65_535))
    .max(64)
    .default(defaults)
    .describe(`${what}; [] turns it off.`);

export const captureSourceSchema = z.strictObject({
  type: z.literal('capture'),
  interface: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._:@-]+$/, 'an interface name, e.g. eth1 or enp3s0')
    .describe('Network interface to capture on (the mirror port), e.g. eth1; lo for tests.'),
  filter: z
    .string()
    .max(4096)
    .optional()
    .describe('BPF capture filter (pcap-filter(7)); absent: built from the port lists below.'),
  modbus_ports: ports('TCP ports of Modbus/TCP servers', [502]),
  mqtt_ports: ports('TCP ports of MQTT brokers (8883 is TLS and cannot be read)', [1883]),
  detect_mqtt: z
    .boolean()
    .default(true)
    .describe(
      'Also follow TCP streams on other ports that open with an MQTT CONNECT (the filter must let them in).',
    ),
  max_mqtt_packet_bytes: z
    .number()
    .int()
    .min(64)
    .max(268_435_460)
    .default(1_048_576)
    .describe('Largest MQTT packet reassembled; a larger one is an mqtt.oversized_packet event and skipped.'),
  coap_ports: ports('UDP ports of CoAP (5684 is DTLS and cannot be read)', [5683]),
  coap_amplification_factor: z
    .number()
    .min(1)
    .max(100)
    .default(3)
    .describe(
      'A CoAP response this many times larger than its request, to an unverified client, is coap.amplification_risk (RFC 9175 §2.4).',
    ),
  dnp3_ports: ports(
    'TCP and UDP ports of DNP3 outstations (TCP streams elsewhere that open with a DNP3 link header are followed too, if the filter lets them in)',
    [20000],
  ),
  s7comm_ports: ports('TCP ports of S7 controllers (ISO-on-TCP, S7comm and the S7comm-plus header)', [102]),
  enip_ports: ports(
    'TCP and UDP ports of EtherNet/IP: 44818 explicit messaging and List Identity, UDP 2222 implicit I/O (cip.io)',
    [44818, 2222],
  ),
  bacnet_ports: ports(
    'UDP ports of BACnet/IP (Annex J: 47808-47823); [] also turns BACnet/Ethernet (802.2 LLC) off',
    Array.from({ length: 16 }, (_, i) => 47_808 + i),
  ),
  opcua_ports: ports(
    'TCP ports of OPC UA binary servers (4843 is TLS and cannot be read; streams elsewhere that open with a HEL are followed too, if the filter lets them in)',
    [4840],
  ),
  syslog_udp_ports: ports('UDP ports of syslog', [514]),
  syslog_tcp_ports: ports('TCP ports of plain-text syslog (TLS on 6514 cannot be read)', [601]),
  max_syslog_bytes: z
    .number()
    .int()
    .min(480)
    .max(1_048_576)
    .default(65_536)
    .describe('Largest syslog message; longer ones become syslog.parse_error events.'),
  snap_length_bytes: z
    .number()
    .int()
    .min(96)
    .max(262_144)
    .default(65_535)
    .describe('Bytes kept of each packet (dumpcap -s).'),
  buffer_size_mib: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(8)
    .describe('Kernel capture buffer (dumpcap -B): room for bursts while the gateway is busy.'),
  dumpcap_path: z
    .string()
    .min(1)
    .default('dumpcap')
    .describe('The dumpcap binary (Debian wireshark-common).'),
  restart_backoff_secs: z
    .number()
    .positive()
    .max(3600)
    .default(5)
    .describe('Wait before restarting dumpcap after it exited on its own.'),
});

export type CaptureSourceConfig = z.output<typeof captureSourceSchema>;

/** The BPF filter dumpcap gets: the configured one, or one port clause per decoded protocol. */
export function captureFilter(config: CaptureSourceConfig): string {
  if (config.filter !== undefined) return config.filter;
  const clauses = [
    ...config.modbus_ports.map((p) => `tcp port ${p}`),
    ...config.mqtt_ports.map((p) => `tcp port ${p}`),
    ...config.coap_ports.map((p) => `udp port ${p}`),
    ...config.syslog_udp_ports.map((p) => `udp port ${p}`),
    ...config.syslog_tcp_ports.map((p) => `tcp port ${p}`),
    ...config.dnp3_ports.map((p) => `port ${p}`),
    ...config.s7comm_ports.map((p) => `tcp port ${p}`),
    ...config.enip_ports.map((p) => `port ${p}`),
    ...config.bacnet_ports.map((p) => `udp port ${p}`),
    ...config.opcua_ports.map((p) => `tcp port ${p}`),
    // BACnet/Ethernet: an 802.3 length, then the LLC's DSAP 0x82 (clause H.1).
    ...(config.bacnet_ports.length > 0 ? ['(ether[12:2] <= 1500 and ether[14] = 0x82)'] : []),
  ];
  return clauses.length > 0 ? clauses.join(' or ') : '';
}

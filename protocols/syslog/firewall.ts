/**
 * Packet-filter log lines: Linux netfilter's LOG and NFLOG-to-syslog targets as iptables,
 * nftables (`log prefix "..."`), ufw and firewalld write them through the kernel
 * (net/netfilter/nf_log_syslog.c: `PREFIX IN=eth0 OUT= MAC=... SRC=... DST=... LEN= ... PROTO=TCP
 * SPT= DPT= ... SYN`), and Cisco IOS access-list logging (`%SEC-6-IPACCESSLOGP: list 101 denied
 * tcp 10.0.0.1(1234) -> 10.0.0.2(23), 1 packet`). The verdict comes from the log prefix (the
 * only place netfilter says it): drop, block, deny, reject → `syslog.firewall.drop`; accept,
 * allow, permit → `syslog.firewall.accept`; otherwise `syslog.firewall.log`. Pure.
 */
import { compactFields, type Enrichment, type MessageView, peer } from './enrichment.ts';

const KERNEL_TIME = /^\[\s*\d{1,10}\.\d{1,9}\]\s*/;
const TOKEN = /^([A-Z][A-Z0-9_]{0,15})=(\S*)$/;
const FLAG = /^[A-Z]{2,5}$/;

export function firewallVerdict(prefix: string): 'drop' | 'accept' | 'log' {
  if (/drop|block|deny|denied|reject|refuse/i.test(prefix)) return 'drop';
  if (/accept|allow|permit|pass/i.test(prefix)) return 'accept';
  return 'log';
}

function verdictEnrichment(
  verdict: 'drop' | 'accept' | 'log',
  fields: Record<string, unknown>,
  src: ReturnType<typeof peer>,
  dst: ReturnType<typeof peer>,
): Enrichment {
  return {
    action: `syslog.firewall.${verdict}`,
    kind: verdict === 'drop' ? 'security' : 'telemetry',
    ...(verdict === 'drop' ? { severity: 5 } : {}),
    // Object.assign, not `{ ...fields, more }`: in Node 20 that object costs about a microsecond per
    // added key (issue 18).
    fields: compactFields(
      Object.assign({}, fields, { 'event.outcome': verdict === 'drop' ? 'failure' : undefined }),
    ),
    ...(src ? { src } : {}),
    ...(dst ? { dst } : {}),
  };
}

/** A netfilter LOG line (any program; the kernel's usually). */
export function parseNetfilter(m: MessageView): Enrichment | null {
  const text = m.msg.replace(KERNEL_TIME, '');
  const at = text.indexOf('IN=');
  if (at < 0 || !text.includes(' SRC=') || !text.includes(' DST=')) return null;
  if (at > 0 && text[at - 1] !== ' ') return null;
  const prefix = text.slice(0, at).trim();
  const values: Record<string, string> = {};
  const flags: string[] = [];
  for (const word of text.slice(at).split(' ')) {
    const t = TOKEN.exec(word);
    if (t) {
      if (!(t[1]! in values)) values[t[1]!] = t[2]!;
    } else if (FLAG.test(word)) flags.push(word);
  }
  if (values.SRC === undefined || values.DST === undefined) return null;
  const fields: Record<string, unknown> = {
    'rule.name': prefix.replace(/^\[|\]$|:$/g, '').trim() || undefined,
    'observer.ingress.interface.name': values.IN,
    'observer.egress.interface.name': values.OUT,
    'network.transport': values.PROTO?.toLowerCase(),
    'network.bytes': values.LEN ? Number(values.LEN) : undefined,
    'firewall.mac': values.MAC,
    'firewall.ttl': values.TTL ? Number(values.TTL) : undefined,
    'tcp.flags': flags.length > 0 ? flags : undefined,
    'icmp.type': values.TYPE ? Number(values.TYPE) : undefined,
  };
  const src = peer(values.SRC, values.SPT, 'source', fields);
  const dst = peer(values.DST, values.DPT, 'destination', fields);
  return verdictEnrichment(firewallVerdict(prefix), fields, src, dst);
}

const CISCO_ACL =
  /^list (\S+) (denied|permitted) (\w+) ([0-9A-Fa-f.:]+)(?:\((\d+)\))?(?: \([^)]*\))? -> ([0-9A-Fa-f.:]+)(?:\((\d+)\))?,? (\d+) packets?/;

/** Cisco IOS `%SEC-6-IPACCESSLOGP` / `IPACCESSLOGDP` / `IPACCESSLOGNP` text. */
export function parseCiscoAcl(text: string): Enrichment | null {
  const r = CISCO_ACL.exec(text);
  if (!r) return null;
  const fields: Record<string, unknown> = {
    'rule.name': r[1],
    'network.transport': r[3]!.toLowerCase(),
    'network.packets': Number(r[8]),
  };
  const src = peer(r[4], r[5], 'source', fields);
  const dst = peer(r[6], r[7], 'destination', fields);
  return verdictEnrichment(r[2] === 'denied' ? 'drop' : 'accept', fields, src, dst);
}

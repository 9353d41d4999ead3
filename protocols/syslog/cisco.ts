/**
 * Cisco IOS / NX-OS message header, common on plant networks' switches and routers:
 * `<PRI>SEQ: [ORIGIN: ][*|.]Mmm dd [yyyy ]hh:mm:ss[.fff][ UTC]: %FAC-SEV-MNEMONIC: text`.
 * rsyslog needs its separate pmciscoios module for this; without it the sequence number becomes
 * the tag and the timestamp is lost. The sequence number is kept as RFC 5424 §7.3.1
 * `meta sequenceId`, the `*`/`.` "clock not authoritative" marks as §7.1 `timeQuality isSynced="0"`.
 * Anything that does not match the whole shape is left to the plain RFC 3164 parser.
 */
import type { SyslogBody } from './types.ts';
import { programNameOf } from './tag.ts';
import { parseRfc3164Timestamp, type TimestampContext } from './timestamp.ts';

const SEQUENCE = /(\d{1,10}): (?:([A-Za-z0-9][A-Za-z0-9._-]{0,254}): )?/y;
const MNEMONIC = /%[A-Za-z0-9_]+-\d-[A-Za-z0-9_]+:/y;
const ZONE = /(?:UTC|GMT): /y;

export function parseCiscoIos(text: string, pos: number, ctx: TimestampContext): SyslogBody | null {
  SEQUENCE.lastIndex = pos;
  const seq = SEQUENCE.exec(text);
  if (!seq) return null;
  let i = SEQUENCE.lastIndex;
  const body: SyslogBody = {
    timestamp: null,
    timestampText: null,
    hostname: seq[2] ?? null,
    appName: null,
    procId: null,
    msgId: null,
    structuredData: [{ id: 'meta', params: [['sequenceId', seq[1]!]] }],
    tag: null,
    programName: null,
    msg: '',
  };
  if (text[i] !== '%') {
    const unsynced = text[i] === '*' || text[i] === '.';
    if (unsynced) i++;
    const ts = parseRfc3164Timestamp(text, i, ctx);
    if (!ts) return null;
    let { date, end } = ts;
    ZONE.lastIndex = end;
    if (ZONE.exec(text)) {
      // `show-timezone` names the zone; only UTC/GMT tells us the offset.
      end = ZONE.lastIndex;
      date = parseRfc3164Timestamp(text, i, { ...ctx, utcOffsetMinutes: 0 })?.date ?? null;
    } else if (text[end - 2] !== ':') {
      return null;
    }
    body.timestamp = date;
    body.timestampText = ts.text;
    i = end;
    if (unsynced) body.structuredData.push({ id: 'timeQuality', params: [['isSynced', '0']] });
  }
  MNEMONIC.lastIndex = i;
  const tag = MNEMONIC.exec(text);
  if (!tag) return null;
  body.tag = tag[0];
  body.programName = programNameOf(tag[0]);
  i = MNEMONIC.lastIndex;
  body.msg = text.slice(text[i] === ' ' ? i + 1 : i);
  return body;
}

/**
 * Compares the codec's view of each BACnet frame with tshark's field dump
 * (../shared/data/bacnet/icsnpp/expected-tshark/<trace>.bacnet.csv): the BVLC function, the NPDU
 * control, message type and networks, the APDU type, segmentation flags and sequence number, the
 * invoke id, the service, the first object identifier and property, every object identifier (up
 * to the codec's cap), and error, reject and abort codes. tshark reassembles segmented APDUs and reports their parameters on the last segment; so
 * does the session, whose complete message is compared there.
 */
import { type BacnetFrame, type BacnetMessage, MAX_OBJECTS } from '../../../protocols/bacnet/index.ts';

export const COMPARED = [
  'bvlc.function',
  'bacnet.control',
  'bacnet.mesgtyp',
  'bacnet.dnet',
  'bacnet.snet',
  'bacapp.type',
  'bacapp.segmented_request',
  'bacapp.more_segments',
  'bacapp.sequence_number',
  'bacapp.invoke_id',
  'bacapp.confirmed_service',
  'bacapp.unconfirmed_service',
  'bacapp.objectType',
  'bacapp.instance_number',
  'bacapp.property_identifier',
  'bacapp.error_class',
  'bacapp.error_code',
  'bacapp.reject_reason',
  'bacapp.abort_reason',
  // Every object identifier of the APDU in order (tshark's whole objectType/instance_number
  // lists), up to the codec's cap of MAX_OBJECTS.
  'objects',
] as const;

const hex2 = (n: number | undefined) => (n === undefined ? '' : `0x${n.toString(16).padStart(2, '0')}`);
const str = (n: number | undefined) => (n === undefined ? '' : String(n));

/** The CSV columns as the codec sees them; `message` is the session's complete APDU, if any. */
export function ourFields(frame: BacnetFrame, message?: BacnetMessage<unknown>): Record<string, string> {
  const n = frame.npdu;
  const a = frame.apdu;
  const whole = message?.frame.apdu ?? (a && !a.segmented ? a : undefined);
  const p = whole?.params;
  const first = p?.objects?.[0] ?? p?.object;
  const out: Record<string, string> = {
    'bvlc.function': hex2(frame.bvlc?.function),
    'bacnet.control': hex2(n?.control),
    'bacnet.mesgtyp': hex2(n?.messageType),
    'bacnet.dnet': str(n?.dnet ?? n?.networks?.[0]),
    'bacnet.snet': str(n?.snet),
    'bacapp.type': str(a?.type),
    'bacapp.segmented_request': a && (a.type === 0 || a.type === 3) ? (a.segmented ? '1' : '0') : '',
    'bacapp.more_segments': a && (a.type === 0 || a.type === 3) ? (a.moreFollows ? '1' : '0') : '',
    'bacapp.sequence_number': str(a?.sequenceNumber),
    'bacapp.invoke_id': str(a?.invokeId),
    'bacapp.confirmed_service': a && a.type !== 1 && a.type !== 4 && a.type < 6 ? str(a.serviceChoice) : '',
    'bacapp.unconfirmed_service': a?.type === 1 ? str(a.serviceChoice) : '',
    'bacapp.objectType': str(first?.type),
    'bacapp.instance_number': str(first?.instance),
    'bacapp.property_identifier': str(p?.property),
    'bacapp.error_class': str(p?.errorClass),
    'bacapp.error_code': str(p?.errorCode),
    'bacapp.reject_reason': a?.type === 6 ? str(a.reason) : '',
    'bacapp.abort_reason': a?.type === 7 ? str(a.reason) : '',
    objects: (p?.objects ?? []).map((o) => `${o.type}/${o.instance}`).join(','),
  };
  return out;
}

/** tshark's columns, multi-valued cells cut to their first value. */
export function theirFields(row: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of COMPARED) out[k] = (row[k] ?? '').split(',')[0]!;
  const types = (row['bacapp.objectType'] ?? '').split(',').filter(Boolean);
  const instances = (row['bacapp.instance_number'] ?? '').split(',');
  out.objects = types
    .slice(0, MAX_OBJECTS)
    .map((t, i) => `${t}/${instances[i]}`)
    .join(',');
  return out;
}

/** The columns that differ. */
export function differences(ours: Record<string, string>, theirs: Record<string, string>): string[] {
  return COMPARED.filter((k) => ours[k] !== theirs[k]).map(
    (k) => `${k}: ours '${ours[k]}' tshark '${theirs[k]}'`,
  );
}

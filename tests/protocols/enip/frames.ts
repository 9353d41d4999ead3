/**
 * Builders for EtherNet/IP test frames, written from CIP Vol. 2 §2-3 (encapsulation header),
 * §2-6 (Common Packet Format) and Vol. 1 §2-4 (Message Router request/response), so tests and
 * property tests can make valid frames without copying third-party captures into the repository.
 */

export const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
export const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

/** An EPATH of 8-bit (or 16-bit above 255) logical segments: class, instance, attribute. */
export function logicalPath(classId: number, instanceId?: number, attributeId?: number): number[] {
  const seg = (type: number, v: number) => (v > 255 ? [0x21 | type, 0, ...le16(v)] : [0x20 | type, v]);
  const out = seg(0x00, classId);
  if (instanceId !== undefined) out.push(...seg(0x04, instanceId));
  if (attributeId !== undefined) out.push(...seg(0x10, attributeId));
  return out;
}

export function cipRequest(service: number, path: number[], data: number[] = []): number[] {
  return [service, path.length / 2, ...path, ...data];
}

export function cipResponse(service: number, status = 0, data: number[] = []): number[] {
  return [service | 0x80, 0, status, 0, ...data];
}

/** Multiple Service Packet body (Vol. 1 § ): count, offsets from the count, messages. */
export function mspData(messages: number[][]): number[] {
  const offsets: number[] = [];
  let at = 2 + 2 * messages.length;
  for (const m of messages) {
    offsets.push(...le16(at));
    at += m.length;
  }
  return [...le16(messages.length), ...offsets, ...messages.flat()];
}

export function encap(command: number, body: number[], session = 0x11020100, context = 0): Uint8Array {
  return Uint8Array.from([
    ...le16(command),
    ...le16(body.length),
    ...le32(session),
    ...le32(0),
    ...le32(context),
    ...le32(0),
    ...le32(0),
    ...body,
  ]);
}

/** SendRRData (0x6F) with a null address item and an unconnected data item. */
export function sendRRData(cip: number[], context = 1): Uint8Array {
  return encap(
    0x6f,
    [...le32(0), ...le16(0), ...le16(2), 0, 0, 0, 0, 0xb2, 0, ...le16(cip.length), ...cip],
    1,
    context,
  );
}

/** SendUnitData (0x70) with a connected address item and connected data (sequence count first). */
export function sendUnitData(cip: number[], connectionId: number, sequence: number): Uint8Array {
  return encap(0x70, [
    ...le32(0),
    ...le16(0),
    ...le16(2),
    0xa1,
    0,
    4,
    0,
    ...le32(connectionId),
    0xb1,
    0,
    ...le16(cip.length + 2),
    ...le16(sequence),
    ...cip,
  ]);
}

/** A UDP 2222 implicit I/O datagram: sequenced address item and connected data. */
export function ioDatagram(connectionId: number, sequence: number, data: number[]): Uint8Array {
  return Uint8Array.from([
    ...le16(2),
    ...le16(0x8002),
    ...le16(8),
    ...le32(connectionId),
    ...le32(sequence),
    0xb1,
    0,
    ...le16(data.length),
    ...data,
  ]);
}

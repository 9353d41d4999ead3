/**
 * System status lists (SZL, "System-Zustandsliste"), the answers of userdata Read SZL (CPU
 * functions, sub-function 1): the list header (id, index, entry length, entry count) and the two
 * lists that identify a controller, which is what an inventory wants and what a reconnaissance
 * tool (nmap s7-info, Snap7, plcscan) reads first. SZL 0x0011 (module identification): order
 * number and firmware version; SZL 0x001c (component identification): station, module, plant
 * and serial number. Layouts from Siemens "System Software for S7-300/400, System and Standard
 * Functions" §34 (SSL-ID W#16#xy11 and W#16#xy1C). Pure; bounded by the data it is given.
 */

export interface SzlList {
  id: number;
  index: number;
  entryBytes: number;
  /** Entries actually present (the header's count, capped by the bytes there). */
  entries: Uint8Array[];
  /** Entries the header announced. */
  count: number;
}

export interface S7Identity {
  orderNumber?: string;
  firmwareVersion?: string;
  stationName?: string;
  moduleName?: string;
  plantId?: string;
  copyright?: string;
  serialNumber?: string;
  moduleType?: string;
}

/** At most this many entries are read from one list (a real 0x001c has about 10). */
export const MAX_SZL_ENTRIES = 512;

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** Text of a fixed-width SZL string: up to the first NUL, trailing spaces removed. */
function text(b: Uint8Array): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  return Buffer.from(b.buffer, b.byteOffset, end).toString('latin1').trimEnd();
}

/** Parses an SZL answer (the userdata data after its 4-byte header). Null when it is too short. */
export function parseSzl(d: Uint8Array): SzlList | null {
  if (d.length < 8) return null;
  const entryBytes = u16(d, 4);
  const count = u16(d, 6);
  const entries: Uint8Array[] = [];
  if (entryBytes > 0) {
    for (let i = 0, at = 8; i < count && i < MAX_SZL_ENTRIES && at + entryBytes <= d.length; i++) {
      entries.push(d.subarray(at, at + entryBytes));
      at += entryBytes;
    }
  }
  return { id: u16(d, 0), index: u16(d, 2), entryBytes, entries, count };
}

/** What SZL 0x0011 or 0x001c (any partial-list prefix) says about the module. */
export function szlIdentity(list: SzlList): S7Identity | null {
  const id = list.id & 0x00ff;
  const out: S7Identity = {};
  if (id === 0x11 && list.entryBytes >= 28) {
    for (const e of list.entries) {
      const index = u16(e, 0);
      // Index 1: the module (order number, MlfB); 7: basic firmware, version in Ausbg/Ausbe.
      if (index === 1) out.orderNumber = text(e.subarray(2, 22));
      if (index === 7 && e[24] === 0x56) out.firmwareVersion = `V${e[25]}.${e[26]}.${e[27]}`;
    }
  } else if (id === 0x1c && list.entryBytes >= 34) {
    for (const e of list.entries) {
      const value = text(e.subarray(2, 34));
      switch (u16(e, 0)) {
        case 1:
          out.stationName = value;
          break;
        case 2:
          out.moduleName = value;
          break;
        case 3:
          out.plantId = value;
          break;
        case 4:
          out.copyright = value;
          break;
        case 5:
          out.serialNumber = value;
          break;
        case 7:
          out.moduleType = value;
          break;
      }
    }
  } else return null;
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * Service parameters of a complete APDU (ANSI/ASHRAE 135-2020 clauses 13–17 and 21): the object,
 * property, array index, values and priority a rule or a baseline matches on, and the fields of
 * the services an OT monitor cares about (reinitializeDevice, deviceCommunicationControl, who-Is,
 * i-Am, errors). One linear walk over the tags with a small per-service table saying which
 * context tag holds what; unknown parameters are skipped, never guessed. Passwords are noted as
 * present, never copied.
 */
import { readApplicationValue, readObjectId, readTag, readUnsigned, type Tag } from './tags.ts';
import type { BacnetValue, ObjectId, ServiceParams } from './types.ts';

/** Values and properties kept per APDU; the rest is counted (`valueCount`). */
export const MAX_VALUES = 16;
export const MAX_OBJECTS = 16;
/** Nesting deeper than this is refused as `invalid_tag` (no real service nests past 6). */
export const MAX_DEPTH = 32;

/** Which context tag (at the outer level) holds what, per service; `list` opens a nested list. */
interface Spec {
  obj?: number;
  device?: number;
  prop?: number;
  idx?: number;
  value?: number;
  prio?: number;
  /** Nested list: its context tag, and inside it the property, array index and value tags. */
  list?: number;
  listProp?: number;
  listIdx?: number;
  listValue?: number;
  listPrio?: number;
  /** Object identifier inside the list, and a list nested in it whose tag `innerProp` is a property. */
  listObj?: number;
  inner?: number;
  innerProp?: number;
  /** A nested error (ReadAccessResult's [5] property-access-error) inside the list. */
  listError?: number;
  /** Nested object identifier (createObject's object-specifier). */
  nestedObj?: { outer: number; inner: number };
}

const PROPERTY_REF: Spec = { obj: 0, prop: 1, idx: 2, value: 3, prio: 4 };

/** Confirmed services by choice: requests (and their ComplexACK where the same layout holds). */
const CONFIRMED: Readonly<Record<number, Spec>> = {
  0: { obj: 1 },
  1: { device: 1, obj: 2, list: 4, listProp: 0, listIdx: 1, listValue: 2 },
  2: { device: 1, obj: 2 },
  5: { obj: 1 },
  8: PROPERTY_REF,
  9: PROPERTY_REF,
  10: { nestedObj: { outer: 0, inner: 1 } },
  12: PROPERTY_REF,
  14: { obj: 0, list: 1, listProp: 0, listIdx: 1 },
  15: PROPERTY_REF,
  16: { obj: 0, list: 1, listProp: 0, listIdx: 1, listValue: 2, listPrio: 3 },
  26: { obj: 0, prop: 1, idx: 2 },
  27: { obj: 3 },
  19: { device: 0 },
  28: { obj: 1, list: 4, listProp: 0, listIdx: 1 },
  29: { obj: 0 },
  30: { list: 4, listObj: 0, inner: 1, innerProp: 0 },
  31: { device: 1, list: 4, listObj: 0, inner: 1, innerProp: 0 },
};

/** ComplexACKs whose layout differs from their request's. */
const ACKS: Readonly<Record<number, Spec>> = {
  // ReadAccessResult (clause 21): [0] object, [1] list of { [2] property, [3] index, [4] value }.
  14: { obj: 0, list: 1, listProp: 2, listIdx: 3, listValue: 4, listError: 5 },
  26: { obj: 0, prop: 1, idx: 2 },
};

const UNCONFIRMED: Readonly<Record<number, Spec>> = {
  2: { device: 1, obj: 2, list: 4, listProp: 0, listIdx: 1, listValue: 2 },
  3: { device: 1, obj: 2 },
  5: { device: 0 },
  7: { obj: 2 },
  11: { device: 1, list: 4, listObj: 0, inner: 1, innerProp: 0 },
};

export interface ParamsResult {
  params: ServiceParams;
  anomalies: string[];
}

function specFor(type: number, choice: number): Spec {
  if (type === 1) return UNCONFIRMED[choice] ?? {};
  if (type === 3) return ACKS[choice] ?? CONFIRMED[choice] ?? {};
  return CONFIRMED[choice] ?? {};
}

/**
 * Decodes the parameters of one complete APDU of PDU type `type` (0 confirmed request,
 * 1 unconfirmed, 3 ComplexACK, 5 Error) and service `choice`.
 */
export function decodeParams(type: number, choice: number, b: Uint8Array): ParamsResult {
  const p: ServiceParams = {};
  const anomalies: string[] = [];
  const spec = specFor(type, choice);
  const objects: ObjectId[] = [];
  const values: BacnetValue[] = [];
  let valueCount = 0;
  const properties: number[] = [];
  const apps: Array<{ tag: Tag; value: BacnetValue }> = [];
  const stack: number[] = [];
  let inValue = -1; // stack depth at which the value opening tag was seen
  let at = 0;
  const note = (o: ObjectId) => {
    if (objects.length < MAX_OBJECTS) objects.push(o);
  };
  while (at < b.length) {
    const tag = readTag(b, at, b.length);
    if (!tag) {
      anomalies.push('invalid_tag');
      break;
    }
    at = tag.end;
    const depth = stack.length;
    if (tag.opening) {
      if (depth >= MAX_DEPTH) {
        anomalies.push('invalid_tag');
        break;
      }
      const isValue =
        inValue < 0 &&
        ((depth === 0 && tag.number === spec.value) ||
          (depth === 1 && stack[0] === spec.list && tag.number === spec.listValue));
      if (isValue) inValue = depth + 1;
      stack.push(tag.number);
      continue;
    }
    if (tag.closing) {
      if (depth === 0 || stack[depth - 1] !== tag.number) {
        anomalies.push('invalid_tag');
        break;
      }
      stack.pop();
      if (inValue > stack.length) inValue = -1;
      continue;
    }
    if (!tag.context) {
      const value = readApplicationValue(b, tag);
      if (tag.number === 12 && value && typeof value === 'object') note(value);
      if (inValue >= 0) {
        valueCount++;
        if (values.length < MAX_VALUES) values.push(value);
      } else if (depth === 0 && apps.length < 8) apps.push({ tag, value });
      else if (depth === 2 && stack[0] === spec.list && stack[1] === spec.listError && tag.number === 9) {
        if (p.errorClass === undefined) p.errorClass = value as number;
        else p.errorCode ??= value as number;
      }
      continue;
    }
    // Context-tagged primitives: meaning from the service's table.
    if (depth === 0) {
      if (tag.number === spec.obj || tag.number === spec.device) {
        const o = readObjectId(b, tag);
        if (o) {
          note(o);
          if (tag.number === spec.obj) p.object ??= o;
          else p.deviceInstance ??= o.instance;
        }
      } else if (tag.number === spec.prop) p.property ??= readUnsigned(b, tag);
      else if (tag.number === spec.idx) p.arrayIndex ??= readUnsigned(b, tag);
      else if (tag.number === spec.prio) p.priority ??= readUnsigned(b, tag);
      else contextParam(type, choice, tag, b, p);
    } else if (depth === 1 && stack[0] === spec.list) {
      const o = tag.number === spec.listObj ? readObjectId(b, tag) : null;
      if (o) {
        note(o);
        p.object ??= o;
      } else if (tag.number === spec.listProp && properties.length < MAX_VALUES)
        properties.push(readUnsigned(b, tag));
      else if (tag.number === spec.listIdx) p.arrayIndex ??= readUnsigned(b, tag);
      else if (tag.number === spec.listPrio) p.priority ??= readUnsigned(b, tag);
    } else if (
      (depth === 2 || (depth === 3 && stack[2] === 0)) &&
      stack[0] === spec.list &&
      stack[1] === spec.inner
    ) {
      // The property sits at depth 2 (BACnetPropertyValue) or inside a [0] property reference.
      if (tag.number === spec.innerProp && properties.length < MAX_VALUES)
        properties.push(readUnsigned(b, tag));
    } else if (depth === 1 && spec.nestedObj && stack[0] === spec.nestedObj.outer) {
      const o = tag.number === spec.nestedObj.inner ? readObjectId(b, tag) : null;
      if (o) {
        note(o);
        p.object ??= o;
      }
    }
  }
  if (stack.length > 0 && !anomalies.includes('invalid_tag')) anomalies.push('unclosed_tag');
  applicationParams(type, choice, apps, p);
  if (objects.length > 0) p.objects = objects;
  if (properties.length > 0) {
    p.properties = properties;
    p.property ??= properties[0];
  }
  if (valueCount > 0) {
    p.values = values;
    if (valueCount > values.length) p.valueCount = valueCount;
  }
  return { params: p, anomalies };
}

/**
 * Context parameters of the services that are not property references. A password is a character
 * string (one octet of character set, then the characters): one with no characters is no password,
 * as ICSNPP logs it.
 */
function contextParam(type: number, choice: number, tag: Tag, b: Uint8Array, p: ServiceParams): void {
  if (type === 0 && choice === 17) {
    // deviceCommunicationControl (clause 16.1): [0] time duration, [1] enable-disable, [2] password.
    if (tag.number === 0) p.timeDurationMins = readUnsigned(b, tag);
    else if (tag.number === 1) p.enableDisable = readUnsigned(b, tag);
    else if (tag.number === 2) p.passwordPresent = tag.length > 1;
  } else if (type === 0 && choice === 20) {
    // reinitializeDevice (clause 16.4): [0] state, [1] password.
    if (tag.number === 0) p.reinitializeState = readUnsigned(b, tag);
    else if (tag.number === 1) p.passwordPresent = tag.length > 1;
  } else if (type === 1 && (choice === 8 || choice === 7)) {
    // who-Is (16.10.1) and who-Has (16.9.1): [0] low and [1] high device instance limits.
    if (tag.number === 0) p.lowLimit = readUnsigned(b, tag);
    else if (tag.number === 1) p.highLimit = readUnsigned(b, tag);
  }
}

/** Application-tagged parameters, by position (i-Am, i-Have, file services, errors). */
function applicationParams(
  type: number,
  choice: number,
  apps: Array<{ tag: Tag; value: BacnetValue }>,
  p: ServiceParams,
): void {
  const v = (i: number) => apps[i]?.value;
  const num = (i: number) => (typeof v(i) === 'number' ? (v(i) as number) : undefined);
  const obj = (i: number) => {
    const x = v(i);
    return x !== null && typeof x === 'object' ? x : undefined;
  };
  if (type === 5) {
    // Error PDU (clause 21 BACnet-Error): error-class and error-code, both enumerated.
    const enums = apps.filter((a) => a.tag.number === 9);
    if (enums[0]) p.errorClass = enums[0].value as number;
    if (enums[1]) p.errorCode = enums[1].value as number;
    return;
  }
  if (type === 1 && choice === 0) {
    // i-Am (clause 16.10.3): device id, max APDU, segmentation, vendor id.
    const device = obj(0);
    if (device) {
      p.object = device;
      p.deviceInstance = device.instance;
    }
    p.maxApdu = num(1);
    p.segmentationSupported = num(2);
    p.vendorId = num(3);
  } else if (type === 1 && choice === 1) {
    // i-Have (clause 16.9.3): device id, object id, object name.
    const device = obj(0);
    if (device) p.deviceInstance = device.instance;
    p.object = obj(1);
    if (typeof v(2) === 'string') p.objectName = v(2) as string;
  } else if (type === 0 && (choice === 6 || choice === 7 || choice === 11)) {
    // atomicReadFile, atomicWriteFile (14.1, 14.2), deleteObject (15.4): an application object id.
    p.object ??= obj(0);
  } else if (type === 1 && (choice === 6 || choice === 9) && typeof v(0) === 'string') {
    // timeSynchronization / utcTimeSynchronization (16.7, 16.8): date and time.
    p.values = [v(0)!, v(1) ?? null];
  }
  for (const k of Object.keys(p) as Array<keyof ServiceParams>) if (p[k] === undefined) delete p[k];
}

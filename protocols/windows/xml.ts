/**
 * Windows Event XML (the event schema `http://schemas.microsoft.com/win/2004/08/events/event`) as
 * Windows Event Forwarding, NXLog's `to_xml()` or `wevtutil qe /f:xml` write it, and as an `.evtx`
 * record renders (evtx.ts). A small non-validating reader builds a bounded element tree (no DTDs,
 * no external entities: only the five predefined entities and character references are expanded),
 * then the System part and the EventData `<Data Name="...">` values (or the children of UserData's
 * one element, as in 1102 and 104) become a `WindowsRecord`. Never throws.
 */
import { type WindowsParseResult, type WindowsRecord, WINDOWS_LIMITS } from './types.ts';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: Array<XmlElement | string>;
}

const MAX_NODES = 20_000;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Expands the predefined entities and character references; anything else stays as written. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,4});/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : whole;
    }
    return ENTITIES[ref] ?? whole;
  });
}

const localName = (qname: string) => {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
};

const ATTR = /\s*([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;
const NAME = /[A-Za-z_][\w.:-]*/y;

/** Parses XML text into its root element, or an error; bounded in depth, nodes and size. */
export function parseXml(text: string): { ok: true; root: XmlElement } | { ok: false; error: string } {
  if (text.length > WINDOWS_LIMITS.TEXT_CHARS) return { ok: false, error: 'XML larger than the limit' };
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let nodes = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const t = text.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.children.push(decodeEntities(t));
      else if (t.trim() !== '') return { ok: false, error: 'text outside the root element' };
    }
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return { ok: false, error: 'unterminated processing instruction' };
      i = end + 2;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return { ok: false, error: 'unterminated comment' };
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) return { ok: false, error: 'unterminated CDATA section' };
      const top = stack[stack.length - 1];
      if (top) top.children.push(text.slice(i + 9, end));
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', i)) return { ok: false, error: 'DTDs and declarations are not accepted' };
    if (text[i + 1] === '/') {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(text);
      const top = stack.pop();
      if (!m || !top || localName(m[0]) !== top.name)
        return { ok: false, error: `mismatched end tag at ${i}` };
      const gt = text.indexOf('>', NAME.lastIndex);
      if (gt < 0) return { ok: false, error: 'unterminated end tag' };
      i = gt + 1;
      continue;
    }
    NAME.lastIndex = i + 1;
    const m = NAME.exec(text);
    if (!m) return { ok: false, error: `bad tag at ${i}` };
    const el: XmlElement = { name: localName(m[0]), attrs: {}, children: [] };
    let j = NAME.lastIndex;
    for (;;) {
      ATTR.lastIndex = j;
      const a = ATTR.exec(text);
      if (!a) break;
      const name = localName(a[1]!);
      if (!a[1]!.startsWith('xmlns')) el.attrs[name] = decodeEntities(a[3] ?? a[4] ?? '');
      j = ATTR.lastIndex;
    }
    while (j < n && /\s/.test(text[j]!)) j++;
    let selfClosing = false;
    if (text[j] === '/' && text[j + 1] === '>') {
      selfClosing = true;
      j += 2;
    } else if (text[j] === '>') j += 1;
    else return { ok: false, error: `bad tag at ${i}` };
    if (++nodes > MAX_NODES) return { ok: false, error: 'too many XML elements' };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root) return { ok: false, error: 'more than one root element' };
    else root = el;
    if (!selfClosing) {
      if (stack.length >= WINDOWS_LIMITS.DEPTH) return { ok: false, error: 'XML nested too deeply' };
      stack.push(el);
    }
    i = j;
  }
  if (stack.length > 0) return { ok: false, error: `unclosed element <${stack[stack.length - 1]!.name}>` };
  if (!root) return { ok: false, error: 'no element' };
  return { ok: true, root };
}

export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children)
    if (typeof c !== 'string' && (name === undefined || c.name === name)) out.push(c);
  return out;
}

/** The text content of an element (its text children and its descendants', in order). */
export function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += typeof c === 'string' ? c : textOf(c);
  return s;
}

const int = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^-?\d{1,15}$/.test(t)) return undefined;
  return Number(t);
};

const clip = (s: string) =>
  s.length > WINDOWS_LIMITS.VALUE_CHARS ? s.slice(0, WINDOWS_LIMITS.VALUE_CHARS) : s;

/**
 * `SystemTime` as ISO 8601 UTC with milliseconds. Windows writes `2019-02-13T18:01:41.5938300Z`
 * (100 ns digits); python-evtx `2019-02-13 18:01:41.593830`: both are UTC.
 */
export function systemTimeToIso(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const ms = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  const zone =
    !m[8] || m[8] === 'Z' ? 'Z' : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8];
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${ms}${zone}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An `<Event>` element → its record. */
export function recordFromEventElement(event: XmlElement, format: 'xml' | 'evtx'): WindowsParseResult {
  if (event.name !== 'Event') return { ok: false, error: `root element is <${event.name}>, not <Event>` };
  const system = childElements(event, 'System')[0];
  if (!system) return { ok: false, error: 'no <System> element' };
  const get = (name: string) => childElements(system, name)[0];
  const idEl = get('EventID');
  const eventId = idEl ? int(textOf(idEl)) : undefined;
  if (eventId === undefined || eventId < 0 || eventId > 0xffff)
    return { ok: false, error: 'no valid <EventID>' };
  const record: WindowsRecord = { format, eventId, data: {} };
  const provider = get('Provider');
  const providerName = provider?.attrs.Name || provider?.attrs.EventSourceName;
  if (providerName) record.provider = providerName;
  const text = (name: string) => {
    const el = get(name);
    return el ? textOf(el).trim() : undefined;
  };
  const channel = text('Channel');
  if (channel) record.channel = channel;
  const computer = text('Computer');
  if (computer) record.computer = computer;
  const recordId = int(text('EventRecordID'));
  if (recordId !== undefined) record.recordId = recordId;
  const time = systemTimeToIso(get('TimeCreated')?.attrs.SystemTime);
  if (time) record.time = time;
  for (const [key, name] of [
    ['level', 'Level'],
    ['task', 'Task'],
    ['opcode', 'Opcode'],
    ['version', 'Version'],
  ] as const) {
    const v = int(text(name));
    if (v !== undefined) record[key] = v;
  }
  const keywords = text('Keywords');
  if (keywords) record.keywords = keywords;
  const exec = get('Execution');
  const pid = int(exec?.attrs.ProcessID);
  if (pid !== undefined) record.processId = pid;
  const tid = int(exec?.attrs.ThreadID);
  if (tid !== undefined) record.threadId = tid;
  const sid = get('Security')?.attrs.UserID;
  if (sid) record.userSid = sid;
  let values = 0;
  const put = (name: string, value: string) => {
    if (
      values >= WINDOWS_LIMITS.DATA_VALUES ||
      name === '' ||
      name === '__proto__' ||
      Object.hasOwn(record.data, name)
    )
      return;
    values++;
    record.data[name] = clip(value);
  };
  const eventData = childElements(event, 'EventData')[0];
  if (eventData) {
    let unnamed = 0;
    for (const d of childElements(eventData)) {
      // `<Data Name="x">` in manifest-based events; classic ones have unnamed `<Data>` (param1...).
      const name = d.name === 'Data' ? (d.attrs.Name ?? `param${++unnamed}`) : d.name;
      put(name, textOf(d));
    }
  }
  const userData = childElements(event, 'UserData')[0];
  const inner = userData ? childElements(userData)[0] : undefined;
  if (inner) for (const d of childElements(inner)) put(d.name, textOf(d));
  const rendering = childElements(event, 'RenderingInfo')[0];
  const message = rendering ? childElements(rendering, 'Message')[0] : undefined;
  if (message) record.message = clip(textOf(message));
  return { ok: true, record };
}

/** Windows Event XML text (one `<Event>`) → record. */
export function parseWindowsXml(text: string, format: 'xml' | 'evtx' = 'xml'): WindowsParseResult {
  const r = parseXml(text.trim());
  if (!r.ok) return r;
  return recordFromEventElement(r.root, format);
}

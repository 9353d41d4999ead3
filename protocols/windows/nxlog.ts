/**
 * NXLog's records of Windows events (im_msvistalog), as `to_json()` or the key=value module
 * (xm_kvp) write them: the System values under NXLog's names (`EventID`, `Channel`, `SourceName`
 * or `ProviderName`, `Hostname`, `RecordNumber`, `EventTime`, `EventType`) and the EventData
 * values at the top level under their own names (`TargetUserName`, `LogonType`...). Everything
 * that is not an NXLog system key is kept as EventData. Pure; never throws.
 */
import { systemTimeToIso } from './xml.ts';
import { type WindowsParseResult, type WindowsRecord, WINDOWS_LIMITS } from './types.ts';

/** NXLog's own keys (im_msvistalog and the core): not EventData. */
const SYSTEM_KEYS = new Set([
  'EventTime',
  'EventReceivedTime',
  'Hostname',
  'Keywords',
  'EventType',
  'SeverityValue',
  'Severity',
  'EventID',
  'SourceName',
  'ProviderName',
  'ProviderGuid',
  'Version',
  'Task',
  'OpcodeValue',
  'RecordNumber',
  'ProcessID',
  'ExecutionProcessID',
  'ThreadID',
  'ExecutionThreadID',
  'Channel',
  'Message',
  'Category',
  'Opcode',
  'SourceModuleName',
  'SourceModuleType',
  'Domain',
  'AccountName',
  'UserID',
  'AccountType',
  'ActivityID',
  'RelatedActivityID',
  'Level',
  'LevelValue',
  'MessageSourceAddress',
]);

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
};
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

/** NXLog's EventTime: `2024-01-02 10:00:00` (local, no zone: not used) or ISO with a zone. */
function eventTime(v: unknown): string | undefined {
  const s = str(v);
  if (!s || !/(Z|[+-]\d\d:?\d\d)$/.test(s.trim())) return undefined;
  return systemTimeToIso(s);
}

function fromObject(o: Record<string, unknown>, format: 'nxlog_json' | 'nxlog_kv'): WindowsParseResult {
  const eventId = num(o.EventID);
  if (eventId === undefined || eventId > 0xffff) return { ok: false, error: 'no numeric EventID' };
  const record: WindowsRecord = { format, eventId, data: {} };
  const channel = str(o.Channel);
  if (channel) record.channel = channel;
  const provider = str(o.ProviderName) ?? str(o.SourceName);
  if (provider) record.provider = provider;
  const computer = str(o.Hostname);
  if (computer) record.computer = computer;
  const recordId = num(o.RecordNumber);
  if (recordId !== undefined) record.recordId = recordId;
  const time = eventTime(o.EventTime);
  if (time) record.time = time;
  const task = num(o.Task);
  if (task !== undefined) record.task = task;
  const pid = num(o.ExecutionProcessID ?? o.ProcessID);
  if (pid !== undefined) record.processId = pid;
  const sid = str(o.UserID);
  if (sid) record.userSid = sid;
  const keywords = str(o.Keywords);
  if (keywords) record.keywords = keywords;
  const type = str(o.EventType)?.toUpperCase();
  if (type === 'AUDIT_SUCCESS') record.outcome = 'success';
  else if (type === 'AUDIT_FAILURE') record.outcome = 'failure';
  const message = str(o.Message);
  if (message) record.message = message.slice(0, WINDOWS_LIMITS.VALUE_CHARS);
  let values = 0;
  for (const [k, v] of Object.entries(o)) {
    // 7045 has EventData named AccountName (the service's account), as NXLog's own key.
    if (
      (SYSTEM_KEYS.has(k) && !(eventId === 7045 && k === 'AccountName')) ||
      values >= WINDOWS_LIMITS.DATA_VALUES
    )
      continue;
    const s = str(v);
    if (s === undefined || k === '__proto__') continue; // a key, not the prototype
    record.data[k] = s.slice(0, WINDOWS_LIMITS.VALUE_CHARS);
    values++;
  }
  return { ok: true, record };
}

export function parseNxlogJson(text: string): WindowsParseResult {
  if (text.length > WINDOWS_LIMITS.TEXT_CHARS)
    return { ok: false, error: 'NXLog record larger than the limit' };
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    return { ok: false, error: 'not a JSON object' };
  return fromObject(o as Record<string, unknown>, 'nxlog_json');
}

const KEY = /([A-Za-z_][\w.-]{0,63})=/y;
/** Where a bare value ends: before a delimiter and the next `Key=`. */
const NEXT_PAIR = /[;,]?\s+[A-Za-z_][\w.-]{0,63}=|[;,]\s*[A-Za-z_][\w.-]{0,63}=/g;

/**
 * xm_kvp output: `Key=value` pairs separated by spaces, `;` or `,`; values bare (up to the next
 * pair, so `EventTime=2024-01-02 10:00:00` keeps its space) or quoted with `"` or `'` and
 * backslash escapes.
 */
export function parseKvPairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  let pairs = 0;
  while (i < text.length && pairs < 4 * WINDOWS_LIMITS.DATA_VALUES) {
    while (i < text.length && /[\s;,]/.test(text[i]!)) i++;
    KEY.lastIndex = i;
    const m = KEY.exec(text);
    if (!m) break;
    i = KEY.lastIndex;
    let value: string;
    const q = text[i];
    if (q === '"' || q === "'") {
      let j = i + 1;
      let v = '';
      while (j < text.length && text[j] !== q) {
        if (text[j] === '\\' && j + 1 < text.length) {
          // Only `\\`, the quote and \t \n \r are escapes: a Windows path's `\P` stays as written.
          const e = text[j + 1]!;
          if (e === q || e === '\\') v += e;
          else if (e === 't' || e === 'n' || e === 'r') v += e === 't' ? '\t' : e === 'n' ? '\n' : '\r';
          else v += `\\${e}`;
          j += 2;
        } else v += text[j++];
      }
      value = v;
      i = j + 1;
    } else {
      NEXT_PAIR.lastIndex = i;
      const next = NEXT_PAIR.exec(text);
      const end = next ? next.index : text.length;
      value = text.slice(i, end).trim();
      i = end;
    }
    if (!Object.hasOwn(out, m[1]!) && m[1] !== '__proto__') out[m[1]!] = value;
    pairs++;
  }
  return out;
}

export function parseNxlogKv(text: string): WindowsParseResult {
  if (text.length > WINDOWS_LIMITS.TEXT_CHARS)
    return { ok: false, error: 'NXLog record larger than the limit' };
  const kv = parseKvPairs(text);
  if (!Object.hasOwn(kv, 'EventID')) return { ok: false, error: 'no EventID=' };
  return fromObject(kv, 'nxlog_kv');
}

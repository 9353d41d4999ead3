/**
 * Snare for Windows (`MSWinEventLog`) lines: tab-separated fields after the syslog header,
 * `MSWinEventLog <TAB> criticality <TAB> log name <TAB> Snare counter <TAB> date <TAB> event id
 * <TAB> source <TAB> user <TAB> SID type <TAB> event log type <TAB> computer <TAB> category <TAB>
 * data <TAB> expanded message [<TAB> checksum or counter]`. A relay that escapes control
 * characters (rsyslog's default) turns the tabs into `#011`; both are read. Snare sends no
 * EventData: the names rules match on are read back from the message text (message-labels.ts).
 * Pure; never throws.
 */
import { readMessageLabels } from './message-labels.ts';
import { type WindowsParseResult, type WindowsRecord, WINDOWS_LIMITS } from './types.ts';

export const SNARE_MARKER = 'MSWinEventLog';

export function parseSnare(text: string): WindowsParseResult {
  if (text.length > WINDOWS_LIMITS.TEXT_CHARS)
    return { ok: false, error: 'Snare line larger than the limit' };
  const body = text.trimStart();
  if (!body.startsWith(SNARE_MARKER)) return { ok: false, error: 'not a Snare MSWinEventLog line' };
  const sep =
    body[SNARE_MARKER.length] === '\t'
      ? '\t'
      : body.startsWith('#011', SNARE_MARKER.length)
        ? '#011'
        : undefined;
  if (!sep) return { ok: false, error: 'Snare fields are not tab-separated' };
  const f = body.split(sep);
  if (f.length < 14) return { ok: false, error: `Snare line has ${f.length} fields, expected at least 14` };
  const eventId = Number(f[5]!.trim());
  if (!/^\d{1,5}$/.test(f[5]!.trim()) || eventId > 0xffff)
    return { ok: false, error: 'Snare event id is not a number' };
  const record: WindowsRecord = { format: 'snare', eventId, data: {} };
  const channel = f[2]!.trim();
  if (channel) record.channel = channel;
  const provider = f[6]!.trim();
  if (provider) record.provider = provider;
  const computer = f[10]!.trim();
  if (computer) record.computer = computer;
  const type = f[9]!.trim().toLowerCase();
  if (type === 'success audit') record.outcome = 'success';
  else if (type === 'failure audit') record.outcome = 'failure';
  const message = f[13]!.trim().slice(0, WINDOWS_LIMITS.VALUE_CHARS);
  if (message) record.message = message;
  record.data = readMessageLabels(message, eventId);
  const user = f[7]!.trim();
  // Snare's user column is the event's account ("N/A" or "Unknown User" when there is none).
  if (
    user &&
    !/^(n\/a|unknown user)$/i.test(user) &&
    !record.data.SubjectUserName &&
    !record.data.TargetUserName
  )
    record.data.TargetUserName = user;
  return { ok: true, record };
}

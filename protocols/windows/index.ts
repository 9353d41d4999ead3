/**
 * Windows events for the gateway: Snare, NXLog (JSON and key=value) and Windows Event XML bodies
 * recognised in syslog messages, `.evtx` files read for `replay`, and their mapping onto the one
 * Event (source `windows`). See protocols/event/SPEC.md "Windows".
 */
export { detectWindowsBody, parseSyslogWindows, parseWindowsBody, type WindowsCarrier } from './detect.ts';
export { readEvtx, type EvtxFile, type EvtxRecord } from './evtx.ts';
export { parseNxlogJson, parseNxlogKv } from './nxlog.ts';
export { parseSnare } from './snare.ts';
export { applyWindowsRecord, windowsAction, windowsEventParts, windowsRecordToEvent } from './to-event.ts';
export * from './types.ts';
export { parseWindowsXml, systemTimeToIso } from './xml.ts';

/**
 * ArcSight Common Event Format (CEF) output, pure: `CEF:Version|Device Vendor|Device Product|
 * Device Version|Device Event Class ID|Name|Severity|Extension` (Micro Focus "Implementing
 * ArcSight CEF", rev. 25, "CEF Header" and "Character Encoding"). Escaping, as that document
 * requires:
 * - header fields: a backslash becomes `\\` and a pipe `\|`; the header cannot span lines, so
 *   CR and LF become a space;
 * - extension values: a backslash becomes `\\`, an equals sign `\=`, and a newline is encoded
 *   as `\n` (CR as `\r`, CRLF as `\n`); pipes are not escaped in the extension;
 * - extension keys are letters and digits only; anything else in a key is dropped.
 * Severity is 0–10 (10 most severe); `cefSeverity` maps the syslog scale (0 = emergency) onto it.
 */

export interface CefEvent {
  /** CEF format version; 0. */
  version?: 0;
  vendor: string;
  product: string;
  productVersion: string;
  /** Device Event Class ID: what kind of event (here the rule id). */
  signatureId: string;
  name: string;
  /** 0–10, clamped. */
  severity: number;
  /** Extension key=value pairs in order; undefined and null values are left out. */
  extension?: ReadonlyArray<readonly [string, string | number | null | undefined]>;
}

export function escapeHeader(value: string): string {
  return value.replace(/\r\n|[\r\n]/g, ' ').replace(/[\\|]/g, (c) => `\\${c}`);
}

export function escapeExtensionValue(value: string): string {
  return value
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

export function extensionKey(key: string): string {
  return key.replace(/[^A-Za-z0-9]/g, '');
}

/** Syslog severity 0 (emergency) … 7 (debug) → CEF 10 … 0. */
export function cefSeverity(syslogSeverity: number): number {
  const table = [10, 10, 9, 8, 6, 4, 2, 0];
  return table[Math.min(7, Math.max(0, Math.trunc(syslogSeverity)))]!;
}

export function formatCef(event: CefEvent): string {
  const severity = Math.min(10, Math.max(0, Math.round(event.severity)));
  const header = [
    `CEF:${event.version ?? 0}`,
    escapeHeader(event.vendor),
    escapeHeader(event.product),
    escapeHeader(event.productVersion),
    escapeHeader(event.signatureId),
    escapeHeader(event.name),
    String(severity),
  ].join('|');
  const extension = (event.extension ?? [])
    .filter(([key, value]) => value !== undefined && value !== null && extensionKey(key) !== '')
    .map(([key, value]) => `${extensionKey(key)}=${escapeExtensionValue(String(value))}`)
    .join(' ');
  return `${header}|${extension}`;
}

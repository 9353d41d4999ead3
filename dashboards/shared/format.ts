/**
 * Display helpers shared by the dashboards: syslog severities (RFC 5424 §6.2.1) with their
 * names and colours, relative and absolute times, byte and rate figures.
 */

/** RFC 5424 §6.2.1 severity names, 0 = emergency … 7 = debug. */
export const SEVERITY_NAMES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'info',
  'debug',
];
export const SEVERITY_COLORS = [
  '#b3001b',
  '#d7263d',
  '#e4572e',
  '#f18f01',
  '#f6c90e',
  '#4f9dde',
  '#7a8599',
  '#9aa3b2',
];

export function severityName(s: number): string {
  return SEVERITY_NAMES[s] ?? String(s);
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const secs = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (secs < 60) return `${secs} s ago`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86_400) return `${Math.floor(secs / 3600)} h ago`;
  return `${Math.floor(secs / 86_400)} d ago`;
}

/** Local date and time to the second, e.g. "2024-05-01 14:03:07". */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function rate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString() : n.toFixed(n >= 10 ? 1 : 2);
}

/** A duration in ms as "850 ms", "12 s", "3 min", "2 h". */
export function duration(ms: number): string {
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${Math.round(ms / 1000)} s`;
  if (a < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

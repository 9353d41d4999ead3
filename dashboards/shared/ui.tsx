/**
 * Small building blocks both dashboards use: `useApi` (load a JSON resource, reload on demand
 * or on an interval, with loading and error state), `useAction` (make a change, then reload or
 * show its error), a severity badge, a status pill, an error
 * banner, a table of rows, a form's labelled input, and the page layout with the navigation bar that folds on narrow
 * (tablet) screens.
 */
import type { ComponentChildren, JSX, VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.ts';
import { SEVERITY_COLORS, severityName } from './format.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
  /** Replaces the data locally (e.g. after a live update). */
  set: (update: (old: T | undefined) => T | undefined) => void;
}

/** GETs `path` (re-fetched when it changes; every `everyMs` when given). `null` path: nothing. */
export function useApi<T>(path: string | null, everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);

  useEffect(() => {
    if (path === null) return;
    const mine = ++seq.current;
    const controller = new AbortController();
    setLoading(true);
    api<T>(path, { signal: controller.signal })
      .then((d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: Error) => {
        if (mine !== seq.current || e.name === 'AbortError') return;
        setError(e);
      })
      .finally(() => {
        if (mine === seq.current) setLoading(false);
      });
    return () => controller.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!everyMs || path === null) return;
    const timer = setInterval(() => setTick((t) => t + 1), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, path]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, set: setData };
}

/**
 * A change made from a page: `run(fn)` clears the last error, awaits `fn` (an API call), then calls
 * `done` (reload what it changed); a failure is kept in `error`, for an ErrorBanner.
 */
export function useAction(done: () => void) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const run = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      done();
    } catch (e) {
      setError(e as Error);
    }
  };
  return { error, run };
}

export function SeverityBadge({ severity }: { severity: number }) {
  return (
    <span
      class="badge sev"
      style={{ background: SEVERITY_COLORS[severity] ?? '#999' }}
      title={`severity ${severity}`}
    >
      {severityName(severity)}
    </span>
  );
}

/** A list shown as tags (ATT&CK ids, protocols, learned behaviours). */
export function Tags({ items }: { items: readonly string[] }) {
  return (
    <>
      {items.map((t) => (
        <span class="tag" key={t}>
          {t}
        </span>
      ))}
    </>
  );
}

export function Pill({
  tone,
  children,
}: {
  tone: 'ok' | 'warn' | 'bad' | 'muted';
  children: ComponentChildren;
}) {
  return <span class={`pill ${tone}`}>{children}</span>;
}

export function ErrorBanner({ error }: { error: Error | undefined | null }) {
  if (!error) return null;
  const text =
    error instanceof ApiError && error.status === 403
      ? `Not allowed: ${error.message}`
      : error.message || String(error);
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

/**
 * A table with one row per item: `head` names the columns (`''` for a column of buttons; none: no
 * header row) and `row` draws an item's `<tr>`, with its key and data attributes. With `empty`, a
 * loaded list with no item shows that sentence instead of the table.
 */
export function DataTable<T>({
  class: className,
  head,
  rows,
  row,
  empty,
}: {
  class?: string;
  head?: readonly string[];
  rows: readonly T[] | undefined;
  row: (item: T) => VNode;
  empty?: string;
}) {
  if (empty !== undefined && rows?.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class={className}>
      {head && (
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={i}>{h}</th>
            ))}
          </tr>
        </thead>
      )}
      <tbody>{rows?.map(row)}</tbody>
    </table>
  );
}

/**
 * A form row: `label` over an `<input>` holding `value`, each keystroke sent to `onValue`. Every
 * other attribute (name, type, required, autocomplete…) goes to the input as it is.
 */
export function Field({
  label,
  value,
  onValue,
  ...input
}: { label: ComponentChildren; value: string; onValue: (value: string) => void } & Omit<
  JSX.InputHTMLAttributes<HTMLInputElement>,
  'label' | 'value' | 'onInput'
>) {
  return (
    <label>
      {label}
      <input {...input} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  );
}

export interface NavItem {
  href: string;
  label: string;
  active: boolean;
}

export function Layout({
  title,
  nav,
  right,
  children,
}: {
  title: string;
  nav: NavItem[];
  right?: ComponentChildren;
  children: ComponentChildren;
}) {
  const [open, setOpen] = useState(false);
  return (
    <div class="layout">
      <header class="topbar">
        <button class="menu-toggle" aria-label="menu" onClick={() => setOpen(!open)}>
          ☰
        </button>
        <span class="brand">{title}</span>
        <nav class={open ? 'open' : ''} onClick={() => setOpen(false)}>
          {nav.map((n) => (
            <a
              key={n.href}
              href={n.href}
              class={n.active ? 'active' : ''}
              aria-current={n.active ? 'page' : undefined}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <div class="topbar-right">{right}</div>
      </header>
      <main class="content">{children}</main>
    </div>
  );
}

/**
 * Hash routing for the dashboards (`#/alerts/42?status=new`): no server routes to configure, and
 * the back button works. `useRoute()` returns the current path segments and query; `navigate()`
 * changes it; `setQuery()` replaces the query without adding a history entry.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments after `#/`, e.g. ['alerts', '42']. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = text.split('?', 2);
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(query),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function href(path: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const text = q.toString();
  return `#/${path.replace(/^\//, '')}${text ? `?${text}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | undefined>): void {
  location.hash = href(path, query);
}

/** Replaces the query of the current route (filters), keeping the path. */
export function setQuery(query: Record<string, string | undefined>): void {
  const { parts } = parseHash(location.hash);
  history.replaceState(null, '', href(parts.join('/'), query));
  dispatchEvent(new HashChangeEvent('hashchange'));
}

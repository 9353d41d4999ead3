/**
 * Live updates over server-sent events (server-shared/web-auth/SPEC.md §5, `GET /api/stream`): one
 * EventSource per page, shared by every component that listens, opened while at least one
 * listens. `useStream('alert', fn)` calls `fn` with each parsed `alert` event; `useStreamState()`
 * says whether the stream is connected. EventSource reconnects by itself after a drop.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export const STREAM_PATH = '/api/stream';

type Listener = (data: unknown) => void;
const listeners = new Map<string, Set<Listener>>();
const stateListeners = new Set<(open: boolean) => void>();
let source: EventSource | null = null;
let open = false;
let users = 0;

function setOpen(value: boolean) {
  open = value;
  for (const l of stateListeners) l(value);
}

function attach(type: string) {
  source?.addEventListener(type, (e) => {
    let data: unknown;
    try {
      data = JSON.parse((e as MessageEvent<string>).data);
    } catch {
      return;
    }
    for (const l of listeners.get(type) ?? []) l(data);
  });
}

function acquire() {
  users++;
  if (source) return;
  source = new EventSource(STREAM_PATH);
  source.onopen = () => setOpen(true);
  source.onerror = () => setOpen(false);
  for (const type of listeners.keys()) attach(type);
}

function release() {
  users--;
  if (users > 0 || !source) return;
  source.close();
  source = null;
  setOpen(false);
}

/** Subscribes to one event type of the stream for the component's lifetime. */
export function useStream<T = unknown>(type: string, handler: (data: T) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const listener: Listener = (data) => ref.current(data as T);
    let set = listeners.get(type);
    if (!set) {
      set = new Set();
      listeners.set(type, set);
      attach(type);
    }
    set.add(listener);
    acquire();
    return () => {
      set.delete(listener);
      release();
    };
  }, [type]);
}

/** True while the stream is connected. */
export function useStreamState(): boolean {
  const [state, setState] = useState(open);
  useEffect(() => {
    stateListeners.add(setState);
    acquire();
    return () => {
      stateListeners.delete(setState);
      release();
    };
  }, []);
  return state;
}

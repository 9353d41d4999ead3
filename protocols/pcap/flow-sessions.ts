/**
 * The per-connection state of a follower of TCP streams (Modbus, S7comm, DNP3, EtherNet/IP, OPC
 * UA): one entry per connection, which both of its directions find, at most `max` of them (the
 * oldest forgotten first, through `EvictionCursor`: `keys().next()` is quadratic under steady
 * eviction, and a port scan in a capture is steady eviction).
 *
 * A chunk finds its connection through its direction's flow object, which the TCP tracker (and
 * the OT proxy) keeps for as long as it follows that direction, instead of a key string made and
 * hashed for every chunk: that was most of the cost of a lookup (`node --cpu-prof` on
 * modbusBig.pcap, docs/performance-log.md, session 20). The key is made only for a flow not seen
 * before; a flow whose connection was forgotten (closed or evicted) is looked up by its key again.
 */
import { EvictionCursor } from '../event/evict.ts';
import type { TcpFlow } from './tcp-stream.ts';

interface Held<S> {
  state: S;
  /** Forgotten (closed or evicted): a flow that still points here looks its key up again. */
  gone: boolean;
}

export interface FlowSessionsOptions<S> {
  /** Connections held at once; the oldest is forgotten for a new one past this. */
  max: number;
  /** The connection's key, the same for both of its directions. */
  keyOf: (flow: TcpFlow) => string;
  create: (flow: TcpFlow) => S;
  /** A connection forgotten to make room (not one `close`d). */
  evicted?: (state: S) => void;
}

export class FlowSessions<S> {
  readonly #byKey = new Map<string, Held<S>>();
  readonly #byFlow = new WeakMap<TcpFlow, Held<S>>();
  readonly #oldest = new EvictionCursor(this.#byKey);
  readonly #options: FlowSessionsOptions<S>;

  constructor(options: FlowSessionsOptions<S>) {
    this.#options = options;
  }

  /** The state of `flow`'s connection, made (forgetting the oldest when full) if it has none. */
  of(flow: TcpFlow): S {
    const held = this.#byFlow.get(flow);
    if (held && !held.gone) return held.state;
    const found = this.#keyed(this.#options.keyOf(flow), flow);
    this.#byFlow.set(flow, found);
    return found.state;
  }

  /** The state under `key`, made if there is none (a datagram: its flow object lives one packet). */
  byKey(key: string, flow: TcpFlow): S {
    return this.#keyed(key, flow).state;
  }

  /** Forgets `flow`'s connection (it ended); returns its state, if it had one. */
  close(flow: TcpFlow): S | undefined {
    const key = this.#options.keyOf(flow);
    const held = this.#byKey.get(key);
    if (!held) return undefined;
    held.gone = true;
    this.#byKey.delete(key);
    return held.state;
  }

  get size(): number {
    return this.#byKey.size;
  }

  #keyed(key: string, flow: TcpFlow): Held<S> {
    let held = this.#byKey.get(key);
    if (held) return held;
    if (this.#byKey.size >= this.#options.max) {
      const oldest = this.#oldest.evict();
      if (oldest) {
        oldest[1].gone = true;
        this.#options.evicted?.(oldest[1].state);
      }
    }
    held = { state: this.#options.create(flow), gone: false };
    this.#byKey.set(key, held);
    return held;
  }
}

/**
 * The broker-wide bound on publishes accepted but not yet durable. Each publish that makes events
 * is admitted (counted with its topic and payload bytes) until its write settles. Over
 * `max_pending_publishes` or `max_pending_bytes` the gate closes: listeners.ts stops reading the
 * connected clients' sockets (TCP then pushes back on them) and parks each one; once the pending
 * work drains to half of both bounds the gate opens and the parked sockets are read again, in
 * turn. A client not yet connected is read all the same, so that its CONNECT is answered in time.
 * Nothing is dropped and nothing acknowledged early: a QoS 1 PUBACK still waits for its write. A
 * read taken while the gate is open may carry the gate past its bound by what that one read holds.
 */
import type { GatewayMetrics } from '../../metrics.ts';
import { oncePerTurn } from './turn-batch.ts';

/** The gate opens again once pending work is at or below this share of both bounds. */
const LOW_WATER = 0.5;

export interface PublishGateOptions {
  maxPublishes: number;
  maxBytes: number;
  source: string;
  metrics: GatewayMetrics;
}

export interface PublishGate {
  /** A publish accepted; call what it returns once its write settled (done or failed). */
  admit(bytes: number): () => void;
  /** While true, client sockets are not read. */
  readonly closed: boolean;
  /** A socket whose read was refused: `resume` reads it again once the gate opens. */
  park(key: object, resume: () => void): void;
  /** A closed socket needs no resume. */
  forget(key: object): void;
  readonly pending: { publishes: number; bytes: number };
}

export function createPublishGate(options: PublishGateOptions): PublishGate {
  const { maxPublishes, maxBytes } = options;
  const lowPublishes = Math.floor(maxPublishes * LOW_WATER);
  const lowBytes = Math.floor(maxBytes * LOW_WATER);
  const gauge = options.metrics.mqttPendingPublishes.labels({ source: options.source });
  const pauses = options.metrics.mqttReadPauses.labels({ source: options.source });
  const parked = new Map<object, () => void>();
  let publishes = 0;
  let bytes = 0;
  let closed = false;
  let opening = false;
  // The gauge shows the count as it stands at the end of each turn of the event loop, not set
  // twice per publish (about 1% of the durable path).
  const show = oncePerTurn(() => gauge.set(publishes));

  const open = () => {
    closed = false;
    // Each parked socket is read once, in the order they were parked; one that closes the gate
    // again parks the rest anew (at the back, so that every client gets its turn).
    if (opening) return;
    opening = true;
    try {
      for (const [key, resume] of [...parked]) {
        if (closed) break;
        parked.delete(key);
        resume();
      }
    } finally {
      opening = false;
    }
  };

  return {
    admit(n: number) {
      publishes += 1;
      bytes += n;
      show();
      if (!closed && (publishes >= maxPublishes || bytes >= maxBytes)) {
        closed = true;
        pauses.inc();
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        publishes -= 1;
        bytes -= n;
        show();
        if (closed && publishes <= lowPublishes && bytes <= lowBytes) open();
      };
    },
    get closed() {
      return closed;
    },
    park(key, resume) {
      parked.delete(key);
      parked.set(key, resume);
    },
    forget(key) {
      parked.delete(key);
    },
    get pending() {
      return { publishes, bytes };
    },
  };
}

/**
 * How alerts fold into incidents, as pure functions (the store runs them inside its transaction,
 * the tests run them against a model).
 *
 * The attacker of an alert is read from its triggering events: the most frequent source address
 * (for an MQTT client, the client's address, whatever client id it rotates through), else the
 * most frequent user name. An alert with neither has no attacker and joins no incident.
 *
 * An incident of one attacker is a run of its alerts where each is within the window of the
 * next: a hit joins every open incident of the same attacker whose span widened by the window
 * contains it, and when it touches several, they merge into the oldest. The result is the same
 * whatever order the hits arrive in (the runs of the sorted times split where the gap exceeds the
 * window), and two attackers never share an incident, since candidates are looked up by attacker.
 */

export type AttackerKind = 'address' | 'user';

export interface Attacker {
  kind: AttackerKind;
  value: string;
}

/** What an alert's triggering events say about who is behind them. */
export interface AttackerEvidence {
  src_ip?: string | null;
  user?: string | null;
}

/** At most this many triggering events are read to find an alert's attacker. */
export const MAX_EVIDENCE_EVENTS = 20;
/** At most this many open incidents of one attacker are considered for one hit. */
export const MAX_CANDIDATES = 16;

const mostFrequent = (values: Array<string | null | undefined>): string | undefined => {
  const counts = new Map<string, number>();
  let best: string | undefined;
  let bestCount = 0;
  for (const v of values) {
    if (!v) continue;
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    // Ties go to the smaller text, so the answer does not depend on the events' order.
    if (n > bestCount || (n === bestCount && best !== undefined && v < best)) {
      best = v;
      bestCount = n;
    }
  }
  return best;
};

/** The attacker of an alert from its events, or undefined when they name none. */
export function attackerOf(events: readonly AttackerEvidence[]): Attacker | undefined {
  const address = mostFrequent(events.map((e) => e.src_ip?.trim().toLowerCase()));
  if (address) return { kind: 'address', value: address };
  const user = mostFrequent(events.map((e) => e.user?.trim()));
  return user ? { kind: 'user', value: user } : undefined;
}

export const attackerKey = (a: Attacker): string => `${a.kind}:${a.value}`;

/** An open incident's span, as the folding sees it. */
export interface Span {
  id: number;
  firstMs: number;
  lastMs: number;
}

export type Decision =
  | { kind: 'open' }
  /** Join `target`; `absorb` are the other incidents the hit bridges, merged into `target`. */
  | { kind: 'join'; target: number; absorb: number[] };

/** Which of one attacker's open incidents a hit at `atMs` joins (the oldest touched), or a new one. */
export function decide(candidates: readonly Span[], atMs: number, windowMs: number): Decision {
  const touched = candidates
    .filter((s) => atMs >= s.firstMs - windowMs && atMs <= s.lastMs + windowMs)
    .map((s) => s.id)
    .sort((a, b) => a - b);
  if (touched.length === 0) return { kind: 'open' };
  return { kind: 'join', target: touched[0]!, absorb: touched.slice(1) };
}

/**
 * The same folding in memory (the model the store is tested against, and usable where there is
 * no database): open incidents per attacker, at most `maxIncidents` kept; beyond that the one
 * whose last hit is oldest is forgotten (a later hit of its attacker opens a new one).
 */
export class IncidentFolder {
  readonly #windowMs: number;
  readonly #max: number;
  #nextId = 1;
  readonly #byKey = new Map<string, Map<number, Span & { members: number[] }>>();
  #size = 0;

  constructor(options: { windowMs: number; maxIncidents: number }) {
    this.#windowMs = options.windowMs;
    this.#max = Math.max(1, options.maxIncidents);
  }

  get size(): number {
    return this.#size;
  }

  /** Folds alert `alertId` of `attacker` at `atMs`; returns its incident id and whether it opened one. */
  add(alertId: number, attacker: Attacker, atMs: number): { incident: number; opened: boolean } {
    const key = attackerKey(attacker);
    let open = this.#byKey.get(key);
    if (!open) this.#byKey.set(key, (open = new Map()));
    const decision = decide([...open.values()], atMs, this.#windowMs);
    if (decision.kind === 'open') {
      const id = this.#nextId++;
      open.set(id, { id, firstMs: atMs, lastMs: atMs, members: [alertId] });
      this.#size += 1;
      this.#evict();
      return { incident: id, opened: true };
    }
    const target = open.get(decision.target)!;
    for (const other of decision.absorb) {
      const o = open.get(other)!;
      target.firstMs = Math.min(target.firstMs, o.firstMs);
      target.lastMs = Math.max(target.lastMs, o.lastMs);
      target.members.push(...o.members);
      open.delete(other);
      this.#size -= 1;
    }
    target.firstMs = Math.min(target.firstMs, atMs);
    target.lastMs = Math.max(target.lastMs, atMs);
    target.members.push(alertId);
    return { incident: target.id, opened: false };
  }

  /** The incidents as sets of alert ids, sorted (for comparing foldings). */
  partition(): number[][] {
    const out: number[][] = [];
    for (const open of this.#byKey.values())
      for (const s of open.values()) out.push([...s.members].sort((a, b) => a - b));
    return out.sort((a, b) => a[0]! - b[0]!);
  }

  #evict(): void {
    while (this.#size > this.#max) {
      let oldest: { key: string; id: number; lastMs: number } | undefined;
      for (const [key, open] of this.#byKey)
        for (const s of open.values())
          if (!oldest || s.lastMs < oldest.lastMs) oldest = { key, id: s.id, lastMs: s.lastMs };
      const open = this.#byKey.get(oldest!.key)!;
      open.delete(oldest!.id);
      if (open.size === 0) this.#byKey.delete(oldest!.key);
      this.#size -= 1;
    }
  }
}

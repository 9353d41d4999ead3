/**
 * The forwarder's control messages (protocols/link/SPEC.md): the hello that answers central's
 * challenge with the enrolled key's signature (§2, §7), the reply to a pushed rule set (§8), and
 * the heartbeat that carries the queue's depth and finds a link that went quiet (§5). Batches and
 * acks are the forwarder's own (index.ts); these are the messages around them.
 */
import type { Logger } from 'pino';
import { signLinkProof } from '../../protocols/link/auth.ts';
import {
  type ChallengeMessage,
  type CommandMessage,
  type CommandResultMessage,
  type HeartbeatMessage,
  type HelloMessage,
  LINK_PROTOCOL_VERSION,
  type PlaybooksMessage,
  type PlaybooksStatusMessage,
  type RulesMessage,
  type RulesStatusMessage,
} from '../../protocols/link/codec.ts';
import type { QueueDepth } from '../queue/leveldb-queue.ts';

/** Rule sets (SPEC §8): the version running, and applying a pushed set. */
export interface ForwarderRules {
  version(): string | undefined;
  apply(message: RulesMessage): RulesStatusMessage;
}

/** Playbooks (SPEC §9): the set running, applying a pushed set, and central's commands. */
export interface ForwarderPlaybooks {
  version(): string | undefined;
  apply(message: PlaybooksMessage): PlaybooksStatusMessage;
  command(message: CommandMessage): CommandResultMessage;
}

export interface HelloOptions {
  gateway: string;
  /** The gateway's enrolled Ed25519 private key (PKCS#8 PEM). */
  privateKey: string;
  software: string;
  rules?: ForwarderRules | undefined;
  playbooks?: ForwarderPlaybooks | undefined;
}

/** SPEC §7: the hello for a challenge, at the highest version both sides speak. */
export function helloFor(challenge: ChallengeMessage, o: HelloOptions): HelloMessage {
  const v = Math.min(LINK_PROTOCOL_VERSION, challenge.v);
  // rules_version exists from v2.
  const rulesVersion = v >= 2 ? o.rules?.version() : undefined;
  // playbooks_version exists from v3.
  const playbooksVersion = v >= 3 ? o.playbooks?.version() : undefined;
  return {
    type: 'hello',
    v,
    gateway: o.gateway,
    sent_at: Date.now(),
    software: o.software,
    proof: signLinkProof(o.privateKey, o.gateway, challenge.nonce),
    ...(rulesVersion !== undefined && { rules_version: rulesVersion }),
    ...(playbooksVersion !== undefined && { playbooks_version: playbooksVersion }),
  };
}

/** SPEC §8: the outcome of a pushed rule set; a gateway without detection refuses it. */
export function rulesStatusFor(message: RulesMessage, rules: ForwarderRules | undefined): RulesStatusMessage {
  return (
    rules?.apply(message) ?? {
      type: 'rules_status',
      requested: message.version,
      ok: false,
      error: 'this gateway runs no detection',
    }
  );
}

/** SPEC §9.2–9.3: the answer to a pushed playbook set or a command; a gateway without playbooks refuses. */
export function playbooksReply(
  message: PlaybooksMessage | CommandMessage,
  playbooks: ForwarderPlaybooks | undefined,
): PlaybooksStatusMessage | CommandResultMessage {
  if (message.type === 'playbooks')
    return (
      playbooks?.apply(message) ?? {
        type: 'playbooks_status',
        requested: message.version,
        ok: false,
        error: 'this gateway runs no playbooks',
      }
    );
  return (
    playbooks?.command(message) ?? {
      type: 'command_result',
      command_id: message.command_id,
      ok: false,
      error: 'this gateway runs no playbooks',
    }
  );
}

export interface HeartbeatOptions {
  intervalMs: number;
  /** The link version central's welcome settled on. */
  linkVersion: number;
  /** When central was last heard from (ms since the epoch). */
  lastHeard(): number;
  depth(): QueueDepth;
  send(message: HeartbeatMessage): void;
  /** Central has been silent for three intervals: the link is dead. */
  dead(): void;
  logger: Logger;
}

/** Sends a heartbeat now and every interval; the caller clears the returned timer. */
export function startHeartbeat(o: HeartbeatOptions): NodeJS.Timeout {
  const interval = o.intervalMs;
  const beat = () => {
    if (Date.now() - o.lastHeard() > 3 * interval) {
      o.logger.warn('no word from central for %d ms; dropping the link', 3 * interval);
      o.dead();
      return;
    }
    // SPEC §5.5 (v2): the queue as it stands, for central's fleet view.
    const depth = o.depth();
    o.send({
      type: 'heartbeat',
      sent_at: Date.now(),
      ...(o.linkVersion >= 2 && {
        queue: { events: depth.events, bytes: depth.bytes, by_lane: { ...depth.byLane } },
      }),
    });
  };
  beat();
  return setInterval(beat, interval);
}

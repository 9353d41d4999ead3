/**
 * The gateway↔central link codec, versions 1 to 4 (spec: protocols/link/SPEC.md; v2 adds rule
 * set push, §8; v3 response playbooks and gateway commands, §9; v4 `held`, §4.8). Messages are JSON
 * objects carried one per WebSocket text frame. This module only turns messages into text and
 * text back into messages: it never throws on bad input, touches no socket and keeps no state.
 * Events inside a batch are left unvalidated here so that central can store the good events of
 * a batch and count the bad ones, instead of rejecting (and wedging) the whole batch.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { gatewayIdSchema } from '../event/schema.ts';
import { blockRequestSchema, edgePlaybookSchema, PLAYBOOK_LIMITS } from '../playbook/schema.ts';

/** The newest link version spoken here (SPEC §7: v2 rule set push, §8; v3 playbooks, §9; v4 `held`, §4.8). */
export const LINK_PROTOCOL_VERSION = 4;
/** The oldest version still spoken (SPEC §7: the previous one, during an upgrade window). */
export const LINK_MIN_PROTOCOL_VERSION = 1;
/** SPEC §3: the largest frame either side must accept; larger frames are a protocol error. */
export const LINK_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * SPEC §3: the largest frame central accepts before the gateway's hello has verified. A hello is
 * under 1 KiB (id ≤ 64, software ≤ 128, proof ≤ 200, rules version 71 characters).
 */
export const LINK_MAX_HELLO_BYTES = 4 * 1024;
/** SPEC §4.2: the most events one batch may carry. */
export const LINK_MAX_BATCH_EVENTS = 10_000;

/** SPEC §8.2: bounds of a pushed rule set (documents, each document, all of them together). */
export const LINK_MAX_RULE_DOCUMENTS = 2000;
export const LINK_MAX_RULE_DOCUMENT_BYTES = 256 * 1024;
export const LINK_MAX_RULE_SET_BYTES = 8 * 1024 * 1024;

const millis = z.number().int().nonnegative().max(8.64e15);
const batchId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** SPEC §8.2: a rule set's version is the SHA-256 of its documents (`ruleSetVersion`). */
const RULES_VERSION = /^sha256:[0-9a-f]{64}$/;
const rulesVersion = z.string().regex(RULES_VERSION, 'expected sha256:<64 hex digits>');
const ruleSetId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'expected letters, digits and ._:-');

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url');

const challengeSchema = z.strictObject({
  type: z.literal('challenge'),
  v: z.number().int().positive(),
  nonce: base64url.min(43).max(128),
});

const helloSchema = z.strictObject({
  type: z.literal('hello'),
  v: z.number().int().positive(),
  gateway: gatewayIdSchema,
  sent_at: millis,
  software: z.string().max(128).optional(),
  /** Ed25519 signature over the challenge (auth.ts, SPEC §2.3). */
  proof: base64url.max(200),
  /** v2, SPEC §8.1: the version of the rule set the gateway runs (absent: it runs none). */
  rules_version: z.string().regex(RULES_VERSION).optional(),
  /** v3, SPEC §9.1: the version of the playbook set the gateway runs (absent: it runs none). */
  playbooks_version: z.string().regex(RULES_VERSION).optional(),
});

const welcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  v: z.number().int().positive(),
  central_time: millis,
  max_batch_events: z.number().int().positive(),
  heartbeat_interval_ms: z.number().int().positive(),
});

const batchSchema = z.strictObject({
  type: z.literal('batch'),
  batch_id: batchId,
  events: z.array(z.unknown()).max(LINK_MAX_BATCH_EVENTS),
});

const ackSchema = z.strictObject({
  type: z.literal('ack'),
  batch_id: batchId,
  inserted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  /** SPEC §4.9, flow control: send the next batch no sooner than this many ms after the ack. */
  delay_ms: z.number().int().nonnegative().max(60_000).optional(),
});

/**
 * SPEC §4.8 (v4): central has the batch and will ack it once rows another transaction holds are
 * free; until then it does not count against the gateway's window.
 */
const heldSchema = z.strictObject({
  type: z.literal('held'),
  batch_id: batchId,
});

/** SPEC §4.9, flow control: central sets how many unacked batches the gateway may have. */
const flowSchema = z.strictObject({
  type: z.literal('flow'),
  max_in_flight: z.number().int().min(1).max(64),
});

const heartbeatSchema = z.strictObject({
  type: z.literal('heartbeat'),
  sent_at: millis,
  /** Central's answer carries the gateway's `sent_at` back, so the gateway can measure round trip and offset. */
  echo: millis.optional(),
  /** v2, SPEC §5.5: the gateway's queue depth by lane when it sent this (central's fleet view). */
  queue: z
    .strictObject({
      events: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      by_lane: z.strictObject({
        alert: z.number().int().nonnegative(),
        security: z.number().int().nonnegative(),
        telemetry: z.number().int().nonnegative(),
      }),
    })
    .optional(),
});

/** v2, SPEC §8.2: central → gateway, the rule set the gateway must run instead of its current one. */
const rulesSchema = z
  .strictObject({
    type: z.literal('rules'),
    id: ruleSetId,
    version: rulesVersion,
    documents: z.array(z.string().max(LINK_MAX_RULE_DOCUMENT_BYTES)).max(LINK_MAX_RULE_DOCUMENTS),
  })
  .refine((m) => m.documents.reduce((n, d) => n + d.length, 0) <= LINK_MAX_RULE_SET_BYTES, {
    message: `a rule set holds at most ${LINK_MAX_RULE_SET_BYTES} characters`,
    path: ['documents'],
  });

/** v2, SPEC §8.3: gateway → central, the outcome of a `rules` message (or of the start-up load). */
const rulesStatusSchema = z.strictObject({
  type: z.literal('rules_status'),
  /** The set the gateway runs after this message (the old one when the new one was refused). */
  id: ruleSetId.optional(),
  version: rulesVersion.optional(),
  /** The version central sent, and whether it was applied. */
  requested: rulesVersion,
  ok: z.boolean(),
  /** Rules and correlations running. */
  rules: z.number().int().nonnegative().optional(),
  /** Why a set was refused: the rule, the field and the reason (SPEC §8.3). */
  error: z.string().max(4096).optional(),
});

/** v3, SPEC §9.2: central → gateway, the playbooks the gateway runs for its own alerts. */
const playbooksSchema = z.strictObject({
  type: z.literal('playbooks'),
  version: rulesVersion,
  playbooks: z.array(edgePlaybookSchema).max(PLAYBOOK_LIMITS.PLAYBOOKS),
});

/** v3, SPEC §9.2: gateway → central, the outcome of a `playbooks` message. */
const playbooksStatusSchema = z.strictObject({
  type: z.literal('playbooks_status'),
  requested: rulesVersion,
  ok: z.boolean(),
  /** The set the gateway runs after this message. */
  version: rulesVersion.optional(),
  error: z.string().max(4096).optional(),
});

const commandId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/);
/** A gateway's block entry id (SPEC §9.3). */
const entryId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/);

/** v3, SPEC §9.3: central → gateway, apply a block (a central-triggered run) or undo one. */
const commandSchema = z.discriminatedUnion('op', [
  z.strictObject({
    type: z.literal('command'),
    command_id: commandId,
    op: z.literal('apply'),
    request: blockRequestSchema,
  }),
  z.strictObject({
    type: z.literal('command'),
    command_id: commandId,
    op: z.literal('undo'),
    entry: entryId,
  }),
]);

/** v3, SPEC §9.3: gateway → central, the outcome of a command. */
const commandResultSchema = z.strictObject({
  type: z.literal('command_result'),
  command_id: commandId,
  ok: z.boolean(),
  /** The entry an `apply` created (the id an undo names). */
  entry: entryId.optional(),
  error: z.string().max(1024).optional(),
});

const errorSchema = z.strictObject({
  type: z.literal('error'),
  code: z.enum(['unsupported_version', 'unauthorized', 'bad_message', 'too_large', 'internal']),
  message: z.string().max(1024),
});

const linkMessageSchema = z.discriminatedUnion('type', [
  challengeSchema,
  helloSchema,
  welcomeSchema,
  batchSchema,
  ackSchema,
  heldSchema,
  flowSchema,
  heartbeatSchema,
  rulesSchema,
  rulesStatusSchema,
  playbooksSchema,
  playbooksStatusSchema,
  commandSchema,
  commandResultSchema,
  errorSchema,
]);

export type LinkMessage = z.output<typeof linkMessageSchema>;
export type ChallengeMessage = z.output<typeof challengeSchema>;
export type HelloMessage = z.output<typeof helloSchema>;
export type FlowMessage = z.output<typeof flowSchema>;
export type WelcomeMessage = z.output<typeof welcomeSchema>;
export type BatchMessage = z.output<typeof batchSchema>;
export type AckMessage = z.output<typeof ackSchema>;
export type HeldMessage = z.output<typeof heldSchema>;
export type HeartbeatMessage = z.output<typeof heartbeatSchema>;
export type ErrorMessage = z.output<typeof errorSchema>;
export type RulesMessage = z.output<typeof rulesSchema>;
export type RulesStatusMessage = z.output<typeof rulesStatusSchema>;
export type PlaybooksMessage = z.output<typeof playbooksSchema>;
export type PlaybooksStatusMessage = z.output<typeof playbooksStatusSchema>;
export type CommandMessage = z.output<typeof commandSchema>;
export type CommandResultMessage = z.output<typeof commandResultSchema>;
export type LinkErrorCode = 'too_large' | 'invalid_utf8' | 'invalid_json' | 'invalid_message';

export type LinkDecodeResult =
  { ok: true; message: LinkMessage } | { ok: false; error: { code: LinkErrorCode; message: string } };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Serialises a message to the text of one WebSocket frame. */
export function encodeLinkMessage(message: LinkMessage): string {
  return JSON.stringify(message);
}

/** Parses one frame. Returns a typed error for anything that is not a valid v1 message. */
export function decodeLinkMessage(
  data: string | Uint8Array,
  options: { maxBytes?: number } = {},
): LinkDecodeResult {
  const maxBytes = options.maxBytes ?? LINK_MAX_MESSAGE_BYTES;
  let text: string;
  if (typeof data === 'string') {
    // A JS string of n UTF-16 units encodes to at most 3n UTF-8 bytes; only measure when it matters.
    if (data.length * 3 > maxBytes && Buffer.byteLength(data, 'utf8') > maxBytes) {
      return fail('too_large', `message larger than ${maxBytes} bytes`);
    }
    text = data;
  } else {
    if (data.byteLength > maxBytes) return fail('too_large', `message larger than ${maxBytes} bytes`);
    try {
      text = utf8.decode(data);
    } catch {
      return fail('invalid_utf8', 'message is not valid UTF-8');
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail('invalid_json', `message is not JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  const result = linkMessageSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return fail('invalid_message', `${where}: ${issue?.message ?? 'invalid message'}`);
  }
  return { ok: true, message: result.data };
}

function fail(code: LinkErrorCode, message: string): LinkDecodeResult {
  return { ok: false, error: { code, message } };
}

/**
 * SPEC §8.2: the version of a rule set, `sha256:` and the hex SHA-256 of the UTF-8 JSON text of
 * its documents array. Same documents in the same order, same version, on both sides.
 */
export function ruleSetVersion(documents: readonly string[]): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(documents), 'utf8').digest('hex')}`;
}

/**
 * SPEC §5: offset of the gateway clock relative to central (gateway − central, ms), from one
 * heartbeat round trip, assuming symmetric network delay (as NTP's basic estimate does).
 */
export function estimateClockOffset(sentAt: number, centralTime: number, receivedAt: number): number {
  return Math.round((sentAt + receivedAt) / 2 - centralTime);
}

/** SPEC §9.2: a playbook set's version, `sha256:` and the hex SHA-256 of its JSON text. */
export function playbookSetVersion(playbooks: readonly unknown[]): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(playbooks), 'utf8').digest('hex')}`;
}

/**
 * Response playbooks (issue 21 ask 4), the format both sides read: "when an alert matches (rule,
 * severity, ATT&CK technique, gateway, site), do these actions", optionally after an analyst's
 * approval. Central stores and runs them (central/playbooks); the gateway runs the ones central
 * pushes over the link for its own local alerts, offline too (gateway/playbooks, link SPEC §9).
 * Pure: schemas, the matcher, and who an alert's evidence names as the attacker.
 *
 * Actions are of two kinds. Gateway actions change what a gateway lets through (its embedded MQTT
 * broker, its Modbus proxies) and run on the gateway; central actions (a webhook to a SOAR through
 * a configured sink, disabling a user or an API token, opening an incident) run on central.
 */
import { z } from 'zod';

/** Most actions in one playbook, most playbooks central keeps or pushes. */
export const PLAYBOOK_LIMITS = { ACTIONS: 16, PLAYBOOKS: 500, LIST_ITEMS: 64 } as const;

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore only');
const text = (max: number) => z.string().min(1).max(max);
const list = <T extends z.ZodType>(item: T) => z.array(item).max(PLAYBOOK_LIMITS.LIST_ITEMS).optional();
/** An IPv4 or IPv6 address (no prefix: a block names one peer). */
const address = z
  .string()
  .max(64)
  .regex(/^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, 'an IPv4 or IPv6 address');
const expire = z
  .number()
  .int()
  .min(1)
  .max(365 * 86_400)
  .optional()
  .describe('Lift the block after this many seconds (absent: until undone).');
/** A source of the gateway's config (`sources.<name>`); absent: every source of the right type. */
const sourceName = slug.optional();

/** What an alert must show for a playbook to run; every given criterion must hold (AND). */
export const playbookMatchSchema = z.strictObject({
  rule_ids: list(text(128)).describe('The alert rule id is one of these.'),
  /** Syslog scale: 0 emergency … 7 debug; "at least as severe" is a number at most this. */
  min_severity: z
    .number()
    .int()
    .min(0)
    .max(7)
    .optional()
    .describe('The alert is at least this severe (syslog scale: 3 = error and worse).'),
  techniques: list(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id like T0836')).describe(
    'The alert carries one of these ATT&CK technique ids.',
  ),
  gateways: list(slug).describe('The alert was seen by one of these gateways.'),
  sites: list(text(128)).describe('The alert is of one of these sites.'),
});
export type PlaybookMatch = z.output<typeof playbookMatchSchema>;

export const gatewayActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('mqtt_block_client'),
    source: sourceName,
    client_id: text(256).optional().describe("The client id to refuse; absent: the alert's client ids."),
    expire_secs: expire,
  }),
  z.strictObject({
    type: z.literal('mqtt_block_address'),
    source: sourceName,
    address: address.optional().describe("The address to refuse; absent: the alert's source address."),
    expire_secs: expire,
  }),
  z.strictObject({
    type: z.literal('modbus_deny_master'),
    source: sourceName,
    address: address.optional().describe("The master to refuse; absent: the alert's source address."),
    expire_secs: expire,
  }),
  z.strictObject({
    type: z.literal('modbus_enforce'),
    source: sourceName,
    expire_secs: expire,
  }),
]);
export type GatewayAction = z.output<typeof gatewayActionSchema>;

export const centralActionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    /** A `type: webhook` sink of central's config: its URL, TLS and HMAC key (never from the API). */
    sink: slug,
  }),
  z.strictObject({ type: z.literal('disable_user'), username: text(64) }),
  z.strictObject({ type: z.literal('disable_token'), token_id: text(128) }),
  z.strictObject({ type: z.literal('open_incident') }),
]);
export type CentralAction = z.output<typeof centralActionSchema>;

export const playbookActionSchema = z.union([gatewayActionSchema, centralActionSchema]);
export type PlaybookAction = z.output<typeof playbookActionSchema>;

export const GATEWAY_ACTION_TYPES: ReadonlySet<string> = new Set([
  'mqtt_block_client',
  'mqtt_block_address',
  'modbus_deny_master',
  'modbus_enforce',
]);
export const isGatewayAction = (a: PlaybookAction): a is GatewayAction => GATEWAY_ACTION_TYPES.has(a.type);

/** A playbook as central stores it and the API takes it. */
export const playbookSchema = z.strictObject({
  id: slug,
  name: text(200),
  description: z.string().max(2000).default(''),
  enabled: z.boolean().default(true),
  /** An analyst approves each run before any action is taken (never pushed to gateways). */
  approval: z.boolean().default(false),
  match: playbookMatchSchema.prefault({}),
  actions: z.array(playbookActionSchema).min(1).max(PLAYBOOK_LIMITS.ACTIONS),
});
export type Playbook = z.output<typeof playbookSchema>;
export type PlaybookInput = z.input<typeof playbookSchema>;

/** What a gateway runs: the playbook's match and its gateway actions only (link SPEC §9.2). */
export const edgePlaybookSchema = z.strictObject({
  id: slug,
  match: playbookMatchSchema,
  actions: z.array(gatewayActionSchema).min(1).max(PLAYBOOK_LIMITS.ACTIONS),
});
export type EdgePlaybook = z.output<typeof edgePlaybookSchema>;

/** The facts of an alert a playbook is matched against. */
export interface AlertFacts {
  rule_id: string;
  severity: number;
  techniques: readonly string[];
  gateway: string | null;
  site: string | null;
}

/** Whether an alert matches: every criterion given holds; an empty match takes every alert. */
export function matchPlaybook(match: PlaybookMatch, alert: AlertFacts): boolean {
  if (match.rule_ids && match.rule_ids.length > 0 && !match.rule_ids.includes(alert.rule_id)) return false;
  if (match.min_severity !== undefined && !(alert.severity <= match.min_severity)) return false;
  if (match.techniques && match.techniques.length > 0) {
    // A sub-technique (T0855.001) matches its parent (T0855) in the playbook, not the reverse.
    const has = alert.techniques.some((t) => match.techniques!.some((m) => t === m || t.startsWith(`${m}.`)));
    if (!has) return false;
  }
  if (
    match.gateways &&
    match.gateways.length > 0 &&
    (!alert.gateway || !match.gateways.includes(alert.gateway))
  )
    return false;
  if (match.sites && match.sites.length > 0 && (!alert.site || !match.sites.includes(alert.site)))
    return false;
  return true;
}

/** The edge part of a playbook, when it has one and may run without approval. */
export function edgePart(p: Playbook): EdgePlaybook | undefined {
  if (!p.enabled || p.approval) return undefined;
  const actions = p.actions.filter(isGatewayAction);
  return actions.length > 0 ? { id: p.id, match: p.match, actions } : undefined;
}

/** What a triggering event says about who is behind it. */
export interface Evidence {
  src_ip?: string | null | undefined;
  client_id?: string | null | undefined;
}

/** At most this many client ids are blocked by one action (a rotating-id brute force). */
export const MAX_CLIENT_IDS_PER_ACTION = 32;

/**
 * The targets an alert's evidence names: the most frequent source address (ties to the smaller
 * text, so order does not matter) and the distinct client ids, at most MAX_CLIENT_IDS_PER_ACTION.
 */
export function targetsOf(events: readonly Evidence[]): { address?: string; clientIds: string[] } {
  const counts = new Map<string, number>();
  let best: string | undefined;
  let bestCount = 0;
  const ids = new Set<string>();
  for (const e of events) {
    const ip = e.src_ip?.trim().toLowerCase();
    if (ip && address.safeParse(ip).success) {
      const n = (counts.get(ip) ?? 0) + 1;
      counts.set(ip, n);
      if (n > bestCount || (n === bestCount && best !== undefined && ip < best)) {
        best = ip;
        bestCount = n;
      }
    }
    const id = e.client_id;
    if (id && id.length <= 256 && ids.size < MAX_CLIENT_IDS_PER_ACTION) ids.add(id);
  }
  return { ...(best !== undefined && { address: best }), clientIds: [...ids].sort() };
}

/**
 * One gateway change as the link carries it (a command, a local run): the action with its target
 * made concrete. `value` is the client id or address; absent for `modbus_enforce`.
 */
export const blockRequestSchema = z.strictObject({
  type: z.enum(['mqtt_block_client', 'mqtt_block_address', 'modbus_deny_master', 'modbus_enforce']),
  source: sourceName,
  value: z.string().min(1).max(256).optional(),
  expire_secs: expire,
});
export type BlockRequest = z.output<typeof blockRequestSchema>;

/**
 * The concrete requests of a gateway action for an alert: one per client id or address named,
 * none when the action needs a target the alert's evidence does not give (reported as such).
 */
export function requestsFor(
  action: GatewayAction,
  targets: { address?: string; clientIds: readonly string[] },
): BlockRequest[] {
  const base = {
    type: action.type,
    ...(action.source !== undefined && { source: action.source }),
    ...(action.expire_secs !== undefined && { expire_secs: action.expire_secs }),
  };
  switch (action.type) {
    case 'mqtt_block_client': {
      const ids = action.client_id ? [action.client_id] : targets.clientIds;
      return ids.map((value) => ({ ...base, value }));
    }
    case 'mqtt_block_address':
    case 'modbus_deny_master': {
      const value = action.address ?? targets.address;
      return value ? [{ ...base, value }] : [];
    }
    case 'modbus_enforce':
      return [base];
  }
}

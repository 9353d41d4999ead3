/**
 * The shapes of the Sigma format as this project reads it: validated detection rules, correlation
 * rules and filters (Sigma rules specification v2.0.0, correlation rules specification v2.x,
 * filters specification v2.0.0), and the one typed error every loader and compiler returns instead
 * of throwing. Nothing here depends on YAML or on the `Event`: it is the vocabulary shared by the
 * loader (load.ts), the compiler (compile.ts) and the correlation engine (engine.ts).
 */

/** Rules specification "Level". */
export const SIGMA_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type SigmaLevel = (typeof SIGMA_LEVELS)[number];

/** Rules specification "Status". */
export const SIGMA_STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;
export type SigmaStatus = (typeof SIGMA_STATUSES)[number];

/** Correlation rules specification "Correlation type" (v2.1 adds the value_* types). */
export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

/**
 * Every way a rule can be refused. The code is stable (tests and metrics key on it); the message
 * names the rule, the place and the reason in words a rule author can act on.
 */
export type SigmaErrorCode =
  | 'yaml' // not YAML, or YAML the parser flags (duplicate keys, bad indentation)
  | 'not_a_rule' // a document that is none of rule, correlation, filter or collection action
  | 'invalid_field' // a metadata attribute of the wrong type or value (title, level, tags...)
  | 'invalid_detection' // a search identifier that is neither list nor map, an empty one...
  | 'invalid_value' // a value the modifier chain cannot take (a map as value, a string for gt...)
  | 'unknown_modifier'
  | 'invalid_modifier' // a known modifier used where the spec forbids it (`all` on one value...)
  | 'invalid_regex'
  | 'invalid_cidr'
  | 'unknown_placeholder' // `expand` with a placeholder the config does not define
  | 'invalid_condition' // syntax error in the condition
  | 'unknown_identifier' // the condition names a search identifier that is not defined
  | 'unsupported' // valid Sigma this engine deliberately does not run (see SPEC.md)
  | 'invalid_correlation'
  | 'unknown_rule_reference' // a correlation or filter naming a rule that is not loaded
  | 'limit'; // a rule exceeding a documented bound (expansions, thresholds, nesting)

export interface SigmaError {
  code: SigmaErrorCode;
  message: string;
  /** The rule's id, name or title, when known. */
  rule?: string;
  /** Where in the rule: `detection.selection.Image|endswith`, `correlation.timespan`... */
  path?: string;
  /** 0-based index of the YAML document in its file. */
  document?: number;
}

export type SigmaResult<T> = { ok: true; value: T } | { ok: false; error: SigmaError };

export const ok = <T>(value: T): SigmaResult<T> => ({ ok: true, value });
export const fail = <T = never>(
  code: SigmaErrorCode,
  message: string,
  extra: Omit<SigmaError, 'code' | 'message'> = {},
): SigmaResult<T> => ({ ok: false, error: { code, message, ...extra } });

export interface SigmaLogsource {
  category?: string;
  product?: string;
  service?: string;
  definition?: string;
}

/** Fields common to the three document kinds. */
export interface SigmaMeta {
  title: string;
  id?: string;
  /** Unique human-readable name, referable from correlations (rules specification "Name"). */
  name?: string;
  status?: SigmaStatus;
  description?: string;
  author?: string;
  references: string[];
  date?: string;
  modified?: string;
  taxonomy?: string;
  level?: SigmaLevel;
  tags: string[];
  falsepositives: string[];
}

/** A detection rule, validated but not compiled: `detection` is kept as the YAML gave it. */
export interface SigmaRule extends SigmaMeta {
  kind: 'rule';
  logsource: SigmaLogsource;
  /** Search identifiers (without `condition`), in document order. */
  detection: Record<string, unknown>;
  /** One or more conditions; a list is OR-linked (rules specification "Condition"). */
  condition: string[];
  fields: string[];
  related: Array<{ id: string; type: string }>;
  scope: string[];
}

export interface CorrelationCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
  /** The field(s) whose values value_count / value_sum / value_avg / value_percentile aggregate. */
  field?: string;
}

export interface SigmaCorrelationRule extends SigmaMeta {
  kind: 'correlation';
  type: CorrelationType;
  /** Referenced rules and correlations, by id or name, in order (temporal_ordered uses it). */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  timespan: string;
  condition?: CorrelationCondition;
  /** alias → (rule name or id → field name). */
  aliases: Record<string, Record<string, string>>;
  /** Whether the referenced rules also alert on their own (default false). */
  generate: boolean;
}

/** A global filter (filters specification v2.0.0): its detection is AND NOT-ed onto the rules it names. */
export interface SigmaFilter extends SigmaMeta {
  kind: 'filter';
  logsource: SigmaLogsource;
  rules: string[];
  detection: Record<string, unknown>;
  condition: string[];
}

export type SigmaDocument = SigmaRule | SigmaCorrelationRule | SigmaFilter;

/** How a rule is named in messages: id, else name, else title. */
export function ruleLabel(meta: { id?: string; name?: string; title?: string }): string {
  return meta.id ?? meta.name ?? meta.title ?? '(untitled rule)';
}

/**
 * The Sigma format's public API (spec: protocols/sigma/SPEC.md): load Sigma YAML (rules,
 * correlations, filters, rule collections) into validated documents, compile detection rules into
 * a matcher over the one `Event`, and run rules, correlations and alert grouping in a pure engine
 * whose clock is passed in. Used alike by the gateway (per event, offline, event clock for replay)
 * and central (across gateways).
 */

export { type AlertGrouper, type AlertGrouperOptions, createAlertGrouper } from './alert-grouper.ts';
export { LEVEL_SEVERITY, tacticsOf, techniquesOf } from './attack.ts';
export {
  type CompiledRule,
  compileRuleSet,
  DEFAULT_LOGSOURCES,
  logsourceSources,
  type SigmaCompileOptions,
  type SigmaRuleSet,
} from './compile.ts';
export { type ConditionNode, parseCondition } from './condition.ts';
export { conditionOf, type CorrelationHit, type GroupSnapshot } from './correlation.ts';
export {
  createSigmaEngine,
  entityOf,
  type SigmaAlert,
  type SigmaEngine,
  type SigmaEngineOptions,
  type SigmaEngineSnapshot,
  type SigmaEngineStats,
} from './engine.ts';
export { cidrContains, parseCidr, parseIp } from './ip.ts';
export { loadSigma, mergeLoadResults, type SigmaLoadOptions, type SigmaLoadResult } from './load.ts';
export { KNOWN_MODIFIERS, type ModifierChain, parseModifierChain } from './modifiers.ts';
export { parseSigmaString, type PatternToken } from './sigma-string.ts';
export * from './types.ts';
export { parseTimespan, validateDocument } from './validate.ts';

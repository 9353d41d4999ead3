/**
 * What the parts of central's playbook service share, built once by createPlaybooks (index.ts):
 * its options and errors, the store that counts every action's change of status, the central
 * actions, the cached playbook list, and the one-at-a-time chain alerts and gateway reports go through.
 */
import type { Logger } from 'pino';
import type { CommandMessage, PlaybooksMessage } from '../../protocols/link/codec.ts';
import { GATEWAY_ACTION_TYPES, type Playbook } from '../../protocols/playbook/schema.ts';
import type { AuthStore } from '../../server-shared/web-auth/types.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { SinkConfig } from '../sinks/config.ts';
import type { SqlClient } from '../store/sql-client.ts';
import type { TableChanges } from '../store/table-changes.ts';
import type { CentralActions } from './central-actions.ts';
import type { PlaybookStore, RunAction } from './store.ts';

export interface PlaybooksOptions {
  sql: SqlClient;
  auth: AuthStore;
  sinks: Record<string, SinkConfig>;
  registry: GatewayRegistry;
  /** Sends a playbook set or a command to a connected v3 gateway; false when it is not. */
  send: (gateway: string, message: PlaybooksMessage | CommandMessage) => boolean;
  logger: Logger;
  metrics?: CentralMetrics;
  env?: NodeJS.ProcessEnv;
  /** Change notices of the store (central/store/table-changes.ts): the cached list follows the playbooks table. */
  changes?: TableChanges;
}

export class PlaybookError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** The parts' shared state: `store` counts each action's status, `playbooks()` is the cached list. */
export interface PlaybookContext {
  options: PlaybooksOptions;
  sql: SqlClient;
  logger: Logger;
  store: PlaybookStore;
  central: CentralActions;
  playbooks: () => Promise<Playbook[]>;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set([
  ...GATEWAY_ACTION_TYPES,
  'webhook',
  'disable_user',
  'disable_token',
  'open_incident',
]);

/** The store, with every action's change of status counted (type bounded: a gateway's report names any text). */
export function countingStore(base: PlaybookStore, metrics: CentralMetrics | undefined): PlaybookStore {
  const count = (a: RunAction | undefined) => {
    if (!a) return a;
    const type = KNOWN_TYPES.has(a.type) ? a.type : 'other';
    metrics?.playbookActions.inc({ type, outcome: a.status });
    return a;
  };
  return {
    ...base,
    addAction: async (a) => count(await base.addAction(a)),
    setAction: async (id, patch, from) => count(await base.setAction(id, patch, from)),
  };
}

/** Alert handling in order, one at a time (runs are keyed per alert; order keeps the audit readable). */
export function serialChain() {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
}

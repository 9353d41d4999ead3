/**
 * Work that must run one task at a time in the order asked (central's detection engine is not
 * reentrant; enrichment records batches in order). A task that fails is handed to `onError` and the
 * next still runs: a promise chain left rejected would skip every later task without a word, and
 * the ingest, which waits on these steps' backlog, would stop at its bound.
 */
export function createOrderedTasks(onError: (what: string, error: Error) => void) {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    /** Runs `task` after every task asked before it; the result is the task's own. */
    run<T>(what: string, task: () => T | Promise<T>): Promise<T> {
      const result = chain.then(task);
      chain = result.catch((error: Error) => onError(what, error));
      return result;
    },
    /** Resolves once every task asked so far has ended, however it ended. */
    idle: (): Promise<void> => chain.then(() => undefined),
  };
}

/**
 * How a running central stops: every service that holds something (a timer, a connection, a
 * queue of work) registers one closer as it is built, and `run()` calls them in the reverse
 * order, once, however many times it is called: the last thing built is the first stopped, so
 * nothing is stopped while something built on it still runs. A failing closer is logged and the
 * rest still run, so one stuck part never leaves the database open.
 */
import type { Logger } from 'pino';

export function createTeardown(logger: Logger) {
  const closers: Array<{ name: string; close: () => unknown }> = [];
  let done: Promise<void> | undefined;
  return {
    /** Registers what stops the part just built (`name` is for the log). */
    add(name: string, close: () => unknown): void {
      if (done) throw new Error(`${name} built after central stopped`);
      closers.push({ name, close });
    },
    /** The registered names in the order they will stop. */
    order: (): string[] => closers.map((c) => c.name).reverse(),
    run(): Promise<void> {
      done ??= (async () => {
        for (const { name, close } of [...closers].reverse()) {
          try {
            await close();
          } catch (error) {
            logger.error({ err: (error as Error).message, part: name }, 'could not stop a part of central');
          }
        }
      })();
      return done;
    },
  };
}

export type Teardown = ReturnType<typeof createTeardown>;

/**
 * The one conformance suite every `EventStore` adapter must pass (STYLE.md "Interfaces with two
 * implementations get one shared conformance suite"): pglite.test.ts and postgres.test.ts run it.
 * One store is opened per suite (PGlite takes seconds to start) and shared by its tests, which
 * keep apart by using their own gateways and time slices (fixtures.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventStore } from '../../../central/store/index.ts';
import { lifecycleCases } from './conformance-lifecycle.ts';
import { pageCases } from './conformance-pages.ts';
import { partitionCases } from './conformance-partitions.ts';
import { queryCases } from './conformance-query.ts';
import { wordCases } from './conformance-words.ts';
import { writeCases } from './conformance-write.ts';
import { makeEvent, timeSlice, uniqueGateway } from './fixtures.ts';

/** Opens a fresh store whose insert-time partition window follows `clock`. */
export type MakeStore = (options: { clock: () => Date }) => Promise<EventStore>;

export interface SuiteContext {
  /** The shared store (available once the suite's `before` hook ran). */
  readonly store: EventStore;
  /** Moves the store's clock; null returns it to the system clock. */
  setClock(now: Date | null): void;
}

export function runStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`EventStore conformance: ${name}`, () => {
    let opened: EventStore | undefined;
    let clockNow: Date | null = null;
    const ctx: SuiteContext = {
      get store() {
        if (!opened) throw new Error('store not opened');
        return opened;
      },
      setClock(now) {
        clockNow = now;
      },
    };

    before(async () => {
      opened = await makeStore({ clock: () => clockNow ?? new Date() });
      await opened.init(new Date());
    });
    after(async () => {
      await opened?.close();
    });

    describe('lifecycle', () => {
      it('reports healthy with its adapter name', async () => {
        const health = await ctx.store.health();
        assert.equal(health.ok, true, health.detail);
        assert.equal(health.adapter, ctx.store.adapter);
        assert.ok(['pglite', 'postgres'].includes(ctx.store.adapter));
      });

      it('init twice is harmless: migrations are not re-applied and data stays', async () => {
        const gateway = uniqueGateway('init');
        const event = makeEvent(gateway, 1, new Date(timeSlice()).toISOString());
        await ctx.store.insertEvents([event]);
        const partitions = await ctx.store.listPartitions();
        await ctx.store.init(new Date());
        await ctx.store.init(new Date());
        assert.deepEqual(await ctx.store.listPartitions(), partitions);
        const page = await ctx.store.queryEvents({ gateway, limit: 10 });
        assert.deepEqual(page.events, [event]);
      });
    });

    describe('writes', () => writeCases(ctx));
    describe('partitions', () => partitionCases(ctx));
    describe('queries', () => queryCases(ctx));
    describe('text search by words', () => wordCases(ctx));
    describe('pagination', () => pageCases(ctx));
    describe('lifecycle: retention, archive, restore', () => lifecycleCases(ctx));
  });
}

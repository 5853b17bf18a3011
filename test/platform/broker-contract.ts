/**
 * The behaviour every broker driver must show, as one vitest suite run unchanged against each
 * driver (see broker.test.ts). Each test works under a key prefix of its own.
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { Broker, StreamEntry } from '../../src/platform/broker/broker.js';
import { NoGroupError, WrongTypeError } from '../../src/platform/broker/errors.js';
import { BrokerUnavailableError } from '../../src/platform/errors.js';
import { uniqueName } from '../support/backends.js';

export interface BrokerContractOptions {
  /** Removes what a test left under its prefix (e.g. Redis keys); runs after each test. */
  cleanUp?: (prefix: string) => Promise<void>;
}

/**
 * `open(prefix)` returns a new handle on the prefix; called twice with one prefix it must give
 * two handles on the same data, as two processes sharing one Redis would have.
 */
export function describeBrokerContract(
  label: string,
  open: (prefix: string) => Promise<Broker> | Broker,
  options: BrokerContractOptions = {},
): void {
  describe(`broker contract: ${label}`, () => {
    const cleanUp = options.cleanUp ?? (() => Promise.resolve());
    const handles: Broker[] = [];
    const prefixes: string[] = [];

    afterEach(async () => {
      await Promise.all(handles.splice(0).map((broker) => broker.close()));
      await Promise.all(prefixes.splice(0).map(cleanUp));
    });

    async function openOn(prefix: string): Promise<Broker> {
      const broker = await open(prefix);
      handles.push(broker);
      return broker;
    }

    async function fresh(): Promise<{ prefix: string; broker: Broker }> {
      const prefix = `${uniqueName('broker')}:`;
      prefixes.push(prefix);
      return { prefix, broker: await openOn(prefix) };
    }

    const now = { count: 100, blockMs: 0 };

    it('counts 1,000 concurrent increments exactly, each caller seeing its own value', async () => {
      const { broker } = await fresh();
      const seen = await Promise.all(Array.from({ length: 1_000 }, () => broker.incr('hits')));
      expect(new Set(seen).size).toBe(1_000);
      expect(Math.min(...seen)).toBe(1);
      expect(Math.max(...seen)).toBe(1_000);
      expect(await broker.counter('hits')).toBe(1_000);
    });

    it('reads a counter that was never set as 0 and adds any step to it', async () => {
      const { broker } = await fresh();
      expect(await broker.counter('never')).toBe(0);
      expect(await broker.incr('votes', 5)).toBe(5);
      expect(await broker.incr('votes', -2)).toBe(3);
    });

    it('gives appended entries strictly increasing ids of the form <ms>-<seq>', async () => {
      const { broker } = await fresh();
      const ids = await Promise.all(
        Array.from({ length: 200 }, (_, i) => broker.append('ballots', { n: String(i) })),
      );
      const parsed = ids.map((id) => {
        expect(id).toMatch(/^\d+-\d+$/);
        const [ms = '', seq = ''] = id.split('-');
        return [Number(ms), Number(seq)] as const;
      });
      for (let i = 1; i < parsed.length; i++) {
        const [[ms, seq], [previousMs, previousSeq]] = [
          parsed[i] ?? [0, 0],
          parsed[i - 1] ?? [0, 0],
        ];
        expect(ms > previousMs || (ms === previousMs && seq > previousSeq)).toBe(true);
      }
      expect(await broker.streamLength('ballots')).toBe(200);
      expect(await broker.streamLength('missing')).toBe(0);
    });

    it('keeps read entries pending until they are acked', async () => {
      const { broker } = await fresh();
      await broker.ensureGroup('votes', 'workers');
      const ids = [
        await broker.append('votes', { voter: 'a', choice: 'cats' }),
        await broker.append('votes', { voter: 'b', choice: 'dogs' }),
        await broker.append('votes', { voter: 'c', choice: 'cats' }),
      ];
      const read = await broker.readGroup('votes', 'workers', 'w1', now);
      expect(read).toEqual([
        { id: ids[0], fields: { voter: 'a', choice: 'cats' } },
        { id: ids[1], fields: { voter: 'b', choice: 'dogs' } },
        { id: ids[2], fields: { voter: 'c', choice: 'cats' } },
      ]);
      expect(await broker.pending('votes', 'workers')).toBe(3);
      expect(await broker.readGroup('votes', 'workers', 'w1', now)).toEqual([]);
      expect(await broker.ack('votes', 'workers', ids.slice(0, 2))).toBe(2);
      expect(await broker.ack('votes', 'workers', ids.slice(0, 2))).toBe(0);
      expect(await broker.pending('votes', 'workers')).toBe(1);
    });

    it("tells a group's pending count, lag and consumers", async () => {
      const { broker } = await fresh();
      await broker.ensureGroup('votes', 'workers');
      for (const voter of ['a', 'b', 'c', 'd', 'e']) await broker.append('votes', { voter });
      expect(await broker.groupInfo('votes', 'workers')).toEqual({
        pending: 0,
        lag: 5,
        consumers: 0,
      });
      await broker.readGroup('votes', 'workers', 'w1', { count: 2, blockMs: 0 });
      await broker.readGroup('votes', 'workers', 'w2', { count: 1, blockMs: 0 });
      expect(await broker.groupInfo('votes', 'workers')).toEqual({
        pending: 3,
        lag: 2,
        consumers: 2,
      });
      await expect(broker.groupInfo('votes', 'nobody')).rejects.toBeInstanceOf(NoGroupError);
    });

    it('never gives one entry to two consumers of a group', async () => {
      const { prefix, broker } = await fresh();
      const other = await openOn(prefix);
      await broker.ensureGroup('tasks', 'workers');
      const ids = await Promise.all(
        Array.from({ length: 100 }, (_, i) => broker.append('tasks', { n: String(i) })),
      );
      const drain = async (handle: Broker, consumer: string): Promise<string[]> => {
        const got: string[] = [];
        for (;;) {
          const batch = await handle.readGroup('tasks', 'workers', consumer, {
            count: 7,
            blockMs: 0,
          });
          if (batch.length === 0) return got;
          got.push(...batch.map((entry) => entry.id));
        }
      };
      const [first, second] = await Promise.all([drain(broker, 'x'), drain(other, 'y')]);
      expect(first.filter((id) => second.includes(id))).toEqual([]);
      expect([...first, ...second].sort()).toEqual([...ids].sort());
    });

    it('answers a blocked read as soon as an entry is appended', async () => {
      const { broker } = await fresh();
      await broker.ensureGroup('orders', 'workers');
      const started = performance.now();
      const reading = broker.readGroup('orders', 'workers', 'w1', { count: 10, blockMs: 10_000 });
      const id = await broker.append('orders', { item: 'tea' });
      expect(await reading).toEqual([{ id, fields: { item: 'tea' } }]);
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('answers a blocked read with nothing once blockMs passes without entries', async () => {
      const { broker } = await fresh();
      await broker.ensureGroup('orders', 'workers');
      const started = performance.now();
      const read = await broker.readGroup('orders', 'workers', 'w1', { count: 10, blockMs: 150 });
      expect(read).toEqual([]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('wakes only one of two blocked consumers for one appended entry', async () => {
      const { broker } = await fresh();
      await broker.ensureGroup('orders', 'workers');
      const wait = { count: 10, blockMs: 300 };
      const reads = [
        broker.readGroup('orders', 'workers', 'a', wait),
        broker.readGroup('orders', 'workers', 'b', wait),
      ];
      const id = await broker.append('orders', { item: 'tea' });
      const [a, b] = await Promise.all(reads);
      expect([...(a ?? []), ...(b ?? [])].map((entry) => entry.id)).toEqual([id]);
    });

    it('ends a blocked read with nothing when its broker closes', async () => {
      const { broker } = await fresh();
      await broker.ensureGroup('orders', 'workers');
      const reading = broker.readGroup('orders', 'workers', 'w1', { count: 10, blockMs: 20_000 });
      await broker.close();
      expect(await reading).toEqual([]);
    });

    it("hands a dead consumer's pending entries to another, but not fresh ones", async () => {
      const { prefix, broker: survivor } = await fresh();
      const dying = await openOn(prefix);
      await survivor.ensureGroup('jobs', 'workers');
      for (const job of ['a', 'b', 'c']) await survivor.append('jobs', { job });
      const taken = await dying.readGroup('jobs', 'workers', 'dying', now);
      expect(taken).toHaveLength(3);
      await dying.close();

      const patient = { minIdleMs: 60_000, count: 10 };
      expect(await survivor.reclaim('jobs', 'workers', 'survivor', patient)).toEqual([]);
      const reclaim = (count: number) =>
        survivor.reclaim('jobs', 'workers', 'survivor', { minIdleMs: 0, count });
      expect(await reclaim(2)).toEqual(taken.slice(0, 2));
      expect(await reclaim(10)).toEqual(taken);
      // Reclaiming restarts the idle clock, so a third consumer cannot take them straight away.
      expect(await survivor.reclaim('jobs', 'workers', 'third', patient)).toEqual([]);
      expect(await survivor.pending('jobs', 'workers')).toBe(3);
      expect(await survivor.ack('jobs', 'workers', taken.map(idOf))).toBe(3);
      expect(await survivor.pending('jobs', 'workers')).toBe(0);
    });

    it('lets an entry be reclaimed only once it has been idle for minIdleMs', async () => {
      const { broker } = await fresh();
      await broker.ensureGroup('jobs', 'workers');
      const id = await broker.append('jobs', { job: 'a' });
      const started = performance.now();
      await broker.readGroup('jobs', 'workers', 'slow', now);
      let reclaimed: StreamEntry[] = [];
      while (reclaimed.length === 0 && performance.now() - started < 5_000) {
        reclaimed = await broker.reclaim('jobs', 'workers', 'fast', { minIdleMs: 100, count: 10 });
        if (reclaimed.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(reclaimed.map(idOf)).toEqual([id]);
      // The idle time is measured from delivery, which came after `started`; 5 ms of rounding.
      expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    });

    it('refuses an entry without fields alone: entries appended beside it still land', async () => {
      const { broker } = await fresh();
      const [before, empty, after] = await Promise.allSettled([
        broker.append('ballots', { n: '1' }),
        broker.append('ballots', {}),
        broker.append('ballots', { n: '2' }),
      ]);
      expect(empty).toMatchObject({
        status: 'rejected',
        reason: { message: /at least one field/ },
      });
      expect([before.status, after.status]).toEqual(['fulfilled', 'fulfilled']);
      await broker.ensureGroup('ballots', 'tally');
      const entries = await broker.readGroup('ballots', 'tally', 'c', now);
      expect(entries.map((entry) => entry.fields)).toEqual([{ n: '1' }, { n: '2' }]);
    });

    it('trims only what every group has read and acked', async () => {
      const { broker } = await fresh();
      const ids: string[] = [];
      for (let n = 0; n < 10; n++) ids.push(await broker.append('jobs', { n: String(n) }));
      expect(await broker.trimAcked('jobs')).toBe(0); // no group: nothing is known to be done
      await broker.ensureGroup('jobs', 'fast');
      await broker.ensureGroup('jobs', 'slow');
      expect(await broker.trimAcked('jobs')).toBe(0); // nothing read yet

      // fast reads 8 and acks all but the 4th; slow reads 6 and acks them all.
      const fast = await broker.readGroup('jobs', 'fast', 'c', { count: 8, blockMs: 0 });
      await broker.ack('jobs', 'fast', fast.filter((_, i) => i !== 3).map(idOf));
      const slow = await broker.readGroup('jobs', 'slow', 'c', { count: 6, blockMs: 0 });
      await broker.ack('jobs', 'slow', slow.map(idOf));
      // fast still needs entry 3: entries 0-2 go.
      expect(await broker.trimAcked('jobs')).toBe(3);
      expect(await broker.streamLength('jobs')).toBe(7);

      await broker.ack('jobs', 'fast', [ids[3] ?? '']);
      // Now slow is the laggard: it has read up to entry 5, so 3-5 go and 6-9 stay.
      expect(await broker.trimAcked('jobs')).toBe(3);
      const rest = await broker.readGroup('jobs', 'slow', 'c', { count: 10, blockMs: 0 });
      expect(rest.map(idOf)).toEqual(ids.slice(6));
      const pendingOnly = await broker.readGroup('jobs', 'fast', 'c', { count: 10, blockMs: 0 });
      expect(pendingOnly.map(idOf)).toEqual(ids.slice(8));
      expect(await broker.trimAcked('nowhere')).toBe(0);
    });

    it('forgets consumers that hold nothing and stopped reading, never one holding entries', async () => {
      const { broker } = await fresh();
      for (const n of ['1', '2', '3']) await broker.append('jobs', { n });
      await broker.ensureGroup('jobs', 'g');
      for (const consumer of ['done', 'also-done', 'holding']) {
        const read = await broker.readGroup('jobs', 'g', consumer, { count: 1, blockMs: 0 });
        if (consumer !== 'holding') await broker.ack('jobs', 'g', read.map(idOf));
      }

      expect(await broker.forgetIdleConsumers('jobs', 'g', 60_000)).toBe(0); // all read just now
      expect(await broker.forgetIdleConsumers('jobs', 'g', 0)).toBe(2); // the two done ones
      expect(await broker.forgetIdleConsumers('jobs', 'g', 0)).toBe(0); // holding stays
      expect(await broker.pending('jobs', 'g')).toBe(1);
      await expect(broker.forgetIdleConsumers('jobs', 'nobody', 0)).rejects.toThrow(NoGroupError);
      await expect(broker.forgetIdleConsumers('never', 'g', 0)).rejects.toThrow(NoGroupError);
    });

    it('creates a group twice without complaint, reading from the stream start', async () => {
      const { broker } = await fresh();
      const id = await broker.append('ballots', { choice: 'x' });
      await broker.ensureGroup('ballots', 'tally');
      await broker.ensureGroup('ballots', 'tally');
      expect(await broker.readGroup('ballots', 'tally', 'c', now)).toEqual([
        { id, fields: { choice: 'x' } },
      ]);
      await broker.ensureGroup('empty', 'tally');
      expect(await broker.streamLength('empty')).toBe(0);
    });

    it('trims a stream to about maxLen entries', async () => {
      const { broker } = await fresh();
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          broker.append('log', { n: String(i) }, { maxLen: 10 }),
        ),
      );
      const length = await broker.streamLength('log');
      expect(length).toBeGreaterThanOrEqual(10);
      expect(length).toBeLessThan(500);
    });

    it('fails a read of a group that was never created with NoGroupError, not as unavailable', async () => {
      const { broker } = await fresh();
      const read = broker.readGroup('nowhere', 'nobody', 'c', now);
      await expect(read).rejects.toBeInstanceOf(NoGroupError);
      await expect(read).rejects.toMatchObject({ stream: 'nowhere', group: 'nobody' });
      await expect(read).rejects.not.toBeInstanceOf(BrokerUnavailableError);
      const blocking = broker.readGroup('nowhere', 'nobody', 'c', { count: 1, blockMs: 100 });
      await expect(blocking).rejects.toBeInstanceOf(NoGroupError);
      await expect(broker.pending('nowhere', 'nobody')).rejects.toBeInstanceOf(NoGroupError);
      await broker.append('nowhere', { a: '1' });
      const reclaim = broker.reclaim('nowhere', 'nobody', 'c', { minIdleMs: 0, count: 1 });
      await expect(reclaim).rejects.toBeInstanceOf(NoGroupError);
    });

    it('fails a command on a key of another type with WrongTypeError, not as unavailable', async () => {
      const { broker } = await fresh();
      await broker.pushRecent('recent', 'x', 5);
      const incr = broker.incr('recent');
      await expect(incr).rejects.toBeInstanceOf(WrongTypeError);
      await expect(broker.append('recent', { a: '1' })).rejects.toBeInstanceOf(WrongTypeError);
      await broker.incr('hits');
      await expect(broker.pushRecent('hits', 'x', 5)).rejects.toBeInstanceOf(WrongTypeError);
      await expect(incr).rejects.not.toBeInstanceOf(BrokerUnavailableError);
    });

    it('delivers a message to every subscriber and none after unsubscribe', async () => {
      const { prefix, broker } = await fresh();
      const other = await openOn(prefix);
      const [leaving, staying, elsewhere] = [new Inbox(), new Inbox(), new Inbox()];
      const leave = await broker.subscribe('results', leaving.receive);
      const stopStaying = await broker.subscribe('results', staying.receive);
      const stopElsewhere = await other.subscribe('results', elsewhere.receive);
      await broker.publish('results', 'one');
      await Promise.all([leaving.until(1), staying.until(1), elsewhere.until(1)]);

      await leave();
      await other.publish('results', 'two');
      await Promise.all([staying.until(2), elsewhere.until(2)]);
      expect(leaving.messages).toEqual(['one']);
      expect(staying.messages).toEqual(['one', 'two']);

      // With no subscriber left on a handle, a later message reaches only the other handle.
      await stopStaying();
      await broker.publish('results', 'three');
      await elsewhere.until(3);
      await stopElsewhere();
      const late = new Inbox();
      await broker.subscribe('results', late.receive);
      await broker.publish('results', 'four');
      await late.until(1);
      expect(staying.messages).toEqual(['one', 'two']);
      expect(elsewhere.messages).toEqual(['one', 'two', 'three']);
      expect(late.messages).toEqual(['four']);
    });

    it('keeps a recent list newest first and capped', async () => {
      const { broker } = await fresh();
      for (const item of ['1', '2', '3', '4', '5']) await broker.pushRecent('latest', item, 3);
      expect(await broker.recent('latest', 10)).toEqual(['5', '4', '3']);
      expect(await broker.recent('latest', 2)).toEqual(['5', '4']);
      expect(await broker.recent('never', 2)).toEqual([]);
      // Several at once go in order, as one push each would: the last ends on top.
      await broker.pushRecent('latest', ['6', '7', '8', '9'], 3);
      expect(await broker.recent('latest', 10)).toEqual(['9', '8', '7']);
      await broker.pushRecent('latest', [], 3);
      expect(await broker.recent('latest', 10)).toEqual(['9', '8', '7']);
    });

    it('answers ping while open and rejects every command as unavailable after close', async () => {
      const { broker } = await fresh();
      await broker.ping();
      await broker.close();
      await broker.close();
      const commands: (() => Promise<unknown>)[] = [
        () => broker.ping(),
        () => broker.incr('k'),
        () => broker.counter('k'),
        () => broker.append('s', { a: '1' }),
        () => broker.ensureGroup('s', 'g'),
        () => broker.readGroup('s', 'g', 'c', { count: 1, blockMs: 1_000 }),
        () => broker.ack('s', 'g', ['1-0']),
        () => broker.reclaim('s', 'g', 'c', { minIdleMs: 0, count: 1 }),
        () => broker.pending('s', 'g'),
        () => broker.streamLength('s'),
        () => broker.trimAcked('s'),
        () => broker.forgetIdleConsumers('s', 'g', 0),
        () => broker.publish('c', 'm'),
        () => broker.subscribe('c', () => undefined),
        () => broker.pushRecent('l', 'x', 3),
        () => broker.recent('l', 3),
      ];
      for (const command of commands) {
        await expect(command()).rejects.toBeInstanceOf(BrokerUnavailableError);
      }
    });
  });
}

function idOf(entry: StreamEntry): string {
  return entry.id;
}

/** Collects a subscriber's messages and lets a test wait for the nth one without sleeping. */
class Inbox {
  readonly messages: string[] = [];
  private readonly waiting: { count: number; resolve: () => void }[] = [];

  readonly receive = (message: string): void => {
    this.messages.push(message);
    for (const waiter of [...this.waiting]) {
      if (this.messages.length < waiter.count) continue;
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  until(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ count, resolve }));
  }
}

/**
 * The embedded broker kept in its log: what a restart finds, rewrites, and damaged files.
 * A "crash" here is a store abandoned without close(), its file opened by a new store.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import { BrokerLogCorruptError, BrokerLogLockedError } from '../../src/platform/broker/errors.js';
import {
  MemoryBroker,
  MemoryStore,
  type PersistenceOptions,
} from '../../src/platform/broker/memory.js';
import { encodeRecord } from '../../src/platform/broker/memory-log.js';

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  droppedBytes?: number;
}

const directories: string[] = [];
const open: MemoryStore[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true });
});

function dataDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'agora-broker-log-'));
  directories.push(directory);
  return directory;
}

function logFile(directory: string): string {
  return join(directory, 'broker', 'broker.log');
}

/** A store on `directory` and a broker on it; `lines` collects what it logs. */
function start(
  directory: string,
  options: Partial<PersistenceOptions> = {},
  lines: LogLine[] = [],
): { store: MemoryStore; broker: MemoryBroker } {
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  const store = new MemoryStore({ dataDir: directory, logger, ...options });
  open.push(store);
  return { store, broker: new MemoryBroker({ store, keyPrefix: 'app:' }) };
}

const now = { count: 100, blockMs: 0 };

describe('the embedded broker log', () => {
  it('replays counters, entries, groups with their pending entries, and capped lists', async () => {
    const directory = dataDir();
    const first = start(directory).broker;
    await first.incr('hits', 41);
    await first.incr('hits');
    for (const item of ['a', 'b', 'c', 'd']) await first.pushRecent('recent', item, 3);
    await first.ensureGroup('votes', 'workers');
    await first.ensureGroup('empty', 'workers');
    const ids = await Promise.all(
      ['x', 'y', 'z'].map((voter) => first.append('votes', { voter, 'odd name': '✓' })),
    );
    const read = await first.readGroup('votes', 'workers', 'w1', { count: 2, blockMs: 0 });
    await first.ack('votes', 'workers', [read[0]?.id ?? '']);
    // Published messages are notifications, never kept.
    await first.publish('results', 'gone');

    const second = start(directory).broker;
    expect(await second.counter('hits')).toBe(42);
    expect(await second.recent('recent', 10)).toEqual(['d', 'c', 'b']);
    expect(await second.streamLength('votes')).toBe(3);
    expect(await second.streamLength('empty')).toBe(0);
    expect(await second.pending('votes', 'workers')).toBe(1);
    // The group goes on after what it delivered before the restart.
    const rest = await second.readGroup('votes', 'workers', 'w2', now);
    expect(rest).toEqual([{ id: ids[2], fields: { voter: 'z', 'odd name': '✓' } }]);
    const later = await second.append('votes', { voter: 'w' });
    expect(compareIds(later, ids[2] ?? '')).toBeGreaterThan(0);
  });

  it('has an acknowledged write in its file by the time the caller hears of it', async () => {
    const directory = dataDir();
    const { broker } = start(directory);
    const copy = dataDir();
    await broker.ensureGroup('votes', 'workers');
    const id = await broker.append('votes', { voter: 'a' });
    expect(await broker.incr('hits')).toBe(1);
    // Copied without closing the first store: only what is on disk gets across.
    mkdirSync(join(copy, 'broker'));
    copyFileSync(logFile(directory), logFile(copy));
    const replayed = start(copy).broker;
    expect(await replayed.counter('hits')).toBe(1);
    expect(await replayed.readGroup('votes', 'workers', 'c', now)).toEqual([
      { id, fields: { voter: 'a' } },
    ]);
  });

  it('lets another consumer reclaim what a crashed process left pending', async () => {
    const directory = dataDir();
    const crashed = start(directory).broker;
    await crashed.ensureGroup('jobs', 'workers');
    for (const job of ['a', 'b', 'c', 'd']) await crashed.append('jobs', { job });
    const taken = await crashed.readGroup('jobs', 'workers', 'dead', { count: 3, blockMs: 0 });
    await crashed.ack('jobs', 'workers', [taken[1]?.id ?? '']);
    // No close(): the process died here.

    const survivor = start(directory).broker;
    const patient = await survivor.reclaim('jobs', 'workers', 'alive', {
      minIdleMs: 60_000,
      count: 10,
    });
    expect(patient).toEqual([]); // the delivery time came back with the entries
    const reclaimed = await survivor.reclaim('jobs', 'workers', 'alive', {
      minIdleMs: 0,
      count: 10,
    });
    expect(reclaimed).toEqual([taken[0], taken[2]]);
    expect(await survivor.readGroup('jobs', 'workers', 'alive', now)).toEqual([
      { id: expect.any(String) as string, fields: { job: 'd' } },
    ]);
    await survivor.ack(
      'jobs',
      'workers',
      reclaimed.map((entry) => entry.id),
    );

    // The claim itself is kept: a third start sees only 'd' pending, held by 'alive'.
    const third = start(directory).broker;
    expect(await third.pending('jobs', 'workers')).toBe(1);
    expect(await third.forgetIdleConsumers('jobs', 'workers', 0)).toBe(1); // 'dead' holds none
  });

  it('rewrites itself when it grows, keeping only what is left, and replays the rewrite', async () => {
    /** 200 jobs, each read and all but the last 4 acked, the acked head trimmed as it goes. */
    const work = async (broker: MemoryBroker): Promise<void> => {
      await broker.ensureGroup('jobs', 'workers');
      for (let round = 0; round < 200; round++) {
        await broker.append('jobs', { job: String(round), payload: 'x'.repeat(100) });
        const [entry] = await broker.readGroup('jobs', 'workers', 'w', now);
        if (round < 196) await broker.ack('jobs', 'workers', [entry?.id ?? '']);
        await broker.trimAcked('jobs');
        await broker.incr('done');
      }
    };
    const whole = dataDir();
    await work(start(whole).broker);
    const directory = dataDir();
    const lines: LogLine[] = [];
    await work(start(directory, { compactAtBytes: 16 * 1024 }, lines).broker);

    expect(lines.filter((line) => line.msg === 'broker log rewritten').length).toBeGreaterThan(0);
    const sizes = [statSync(logFile(directory)).size, statSync(logFile(whole)).size];
    expect(sizes[0]).toBeLessThan((sizes[1] ?? 0) / 2);
    expect(existsSync(`${logFile(directory)}.rewrite`)).toBe(false);

    const replayed = start(directory).broker;
    expect(await replayed.counter('done')).toBe(200);
    expect(await replayed.pending('jobs', 'workers')).toBe(4);
    const kept = await replayed.reclaim('jobs', 'workers', 'w', { minIdleMs: 0, count: 10 });
    expect(kept.map((entry) => entry.fields.job)).toEqual(['196', '197', '198', '199']);
    expect(await replayed.readGroup('jobs', 'workers', 'w', now)).toEqual([]);
  });

  it('loses nothing when a crash stops a rewrite before its rename', async () => {
    const directory = dataDir();
    const { broker } = start(directory);
    await broker.incr('hits', 7);
    // What a rewrite cut short leaves: a partial new file beside the whole log.
    writeFileSync(
      `${logFile(directory)}.rewrite`,
      encodeRecord({ op: 'trim', key: 'x', count: 1 }),
    );
    const replayed = start(directory).broker;
    expect(await replayed.counter('hits')).toBe(7);
    expect(existsSync(`${logFile(directory)}.rewrite`)).toBe(false);
  });

  it('cuts off a torn last record with one warning naming the file and the bytes', async () => {
    const directory = dataDir();
    const { broker } = start(directory);
    await broker.incr('hits');
    await broker.incr('hits');
    const whole = statSync(logFile(directory)).size;
    const last = encodeRecord({ op: 'counter', key: 'app:hits', value: 3 });
    appendFileSync(logFile(directory), last.subarray(0, last.length - 5));

    const lines: LogLine[] = [];
    const replayed = start(directory, {}, lines).broker;
    expect(await replayed.counter('hits')).toBe(2);
    const warnings = lines.filter((line) => line.level >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ file: logFile(directory), droppedBytes: last.length - 5 });
    expect(statSync(logFile(directory)).size).toBe(whole);

    // Writes after the cut land on a clean end: the next start warns of nothing.
    expect(await replayed.incr('hits')).toBe(3);
    const quiet: LogLine[] = [];
    expect(await start(directory, {}, quiet).broker.counter('hits')).toBe(3);
    expect(quiet.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('takes a damaged last record left as zeros (a machine crash) for a torn tail', async () => {
    const directory = dataDir();
    await start(directory).broker.incr('hits', 5);
    appendFileSync(logFile(directory), Buffer.alloc(64));
    const lines: LogLine[] = [];
    expect(await start(directory, {}, lines).broker.counter('hits')).toBe(5);
    expect(lines.filter((line) => line.level >= 40)).toHaveLength(1);
  });

  it('refuses to start on a damaged record in the middle, naming file and offset', async () => {
    const directory = dataDir();
    const { broker } = start(directory);
    await broker.incr('hits');
    const second = statSync(logFile(directory)).size;
    await broker.incr('hits');
    await broker.incr('hits');
    const bytes = readFileSync(logFile(directory));
    // Flip a byte inside the second record's JSON.
    bytes[second + 12] = (bytes[second + 12] ?? 0) ^ 0xff;
    writeFileSync(logFile(directory), bytes);

    const opening = (): MemoryStore => new MemoryStore({ dataDir: directory });
    expect(opening).toThrow(BrokerLogCorruptError);
    expect(opening).toThrow(`broker log ${logFile(directory)} is corrupt at byte ${second}`);
    // Nothing was cut: the file is as it was, for someone to look at.
    expect(readFileSync(logFile(directory))).toEqual(bytes);
  });

  it('keeps what everysec answered, once closed', async () => {
    const directory = dataDir();
    const { store, broker } = start(directory, { fsync: 'everysec' });
    const hits = await Promise.all(Array.from({ length: 100 }, () => broker.incr('hits')));
    expect(Math.max(...hits)).toBe(100);
    await store.close();
    expect(await start(directory).broker.counter('hits')).toBe(100);
  });

  it('refuses a log another live process holds, and takes over one whose process is gone', async () => {
    const directory = dataDir();
    mkdirSync(join(directory, 'broker'));
    const pidFile = join(directory, 'broker', 'broker.pid');
    // The test runner's parent: alive, and not this process.
    writeFileSync(pidFile, `${process.ppid}\n`);
    expect(() => new MemoryStore({ dataDir: directory })).toThrow(BrokerLogLockedError);

    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(pidFile, `${gone}\n`);
    const { store, broker } = start(directory);
    expect(await broker.incr('hits')).toBe(1);
    expect(readFileSync(pidFile, 'utf8')).toBe(`${process.pid}\n`);
    await store.close();
    expect(existsSync(pidFile)).toBe(false);
  });
});

function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/**
 * The embedded broker's append-only log, as Redis keeps its AOF: each record is
 * `[length u32][crc32 u32][JSON]` (big-endian). Read back in full at start; written in one
 * write (and one fsync) per event-loop turn; rewritten compactly, atomically, when it grows.
 */
import {
  close,
  closeSync,
  existsSync,
  fdatasync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  open,
  openSync,
  readFileSync,
  rename,
  rmSync,
  write,
} from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

import type { Logger } from '../logger.js';
import { BrokerLogCorruptError } from './errors.js';
import { lockDirectory } from './memory-lock.js';
import { type LogRecord, recordOf } from './memory-state.js';

/**
 * `always`: a caller is answered only after its record is fsynced (grouped per turn).
 * `everysec`: answered once written to the OS, fsynced each second; a process kill loses
 * nothing, a machine crash up to the last second.
 */
export type FsyncPolicy = 'always' | 'everysec';

export interface MemoryLogOptions {
  file: string;
  fsync: FsyncPolicy;
  logger?: Logger;
  /** Rewrite once the file is this big and twice what the last rewrite left (16 MiB). */
  compactAtBytes?: number;
  /** The records that rebuild the data as it is now, for a rewrite. */
  snapshot: () => Iterable<LogRecord>;
}

const headerBytes = 8;
const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);
const renameAsync = promisify(rename);
const openAsync = promisify(open);

/** Records written in one turn, and the callers waiting for them to be durable. */
interface Batch {
  chunks: Buffer[];
  waiters: { resolve: () => void; reject: (error: Error) => void }[];
}

export function encodeRecord(record: LogRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record));
  const header = Buffer.alloc(headerBytes);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/**
 * Applies each whole record of `bytes` in order and returns where the last whole one ends. A
 * damaged record is a torn tail (the end is returned) when nothing but zeros follows it, and
 * corruption (BrokerLogCorruptError) when more data does.
 */
export function replayRecords(
  bytes: Buffer,
  file: string,
  apply: (record: LogRecord) => void,
): number {
  let offset = 0;
  while (offset < bytes.length) {
    const damaged = (reason: string, recordEnd: number): number => {
      if (isBlank(bytes, recordEnd)) return offset;
      throw new BrokerLogCorruptError(file, offset, reason);
    };
    if (bytes.length - offset < headerBytes) return offset;
    const length = bytes.readUInt32BE(offset);
    const end = offset + headerBytes + length;
    if (end > bytes.length) return offset;
    const payload = bytes.subarray(offset + headerBytes, end);
    if (length === 0 || crc32(payload) !== bytes.readUInt32BE(offset + 4)) {
      return damaged('checksum mismatch', end);
    }
    let record: LogRecord | undefined;
    try {
      record = recordOf(JSON.parse(payload.toString()));
    } catch {
      record = undefined;
    }
    if (record === undefined) throw new BrokerLogCorruptError(file, offset, 'not a record');
    try {
      apply(record);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BrokerLogCorruptError(file, offset, reason);
    }
    offset = end;
  }
  return offset;
}

export class MemoryLog {
  readonly file: string;
  private readonly options: MemoryLogOptions;
  private fd: number;
  private size: number;
  /** The size the last rewrite (or the start) left: the file is rewritten at twice that. */
  private baseSize: number;
  private next: Batch = newBatch();
  private inflight: Batch | undefined;
  private draining: Promise<void> | undefined;
  private scheduled = false;
  /** Written but not fsynced yet (everysec), and the fsync of each second while it runs. */
  private unsynced = false;
  private syncing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly unlock: () => void;

  private constructor(options: MemoryLogOptions, fd: number, size: number, unlock: () => void) {
    this.options = options;
    this.unlock = unlock;
    this.file = options.file;
    this.fd = fd;
    this.size = size;
    this.baseSize = size;
    if (options.fsync === 'everysec') {
      this.timer = setInterval(() => {
        this.syncEverySecond();
      }, 1_000);
      this.timer.unref();
    }
  }

  /** Replays the file into `apply` (cutting off a torn tail), then opens it for appending. */
  static open(options: MemoryLogOptions, apply: (record: LogRecord) => void): MemoryLog {
    const { file } = options;
    mkdirSync(dirname(file), { recursive: true });
    const unlock = lockDirectory(dirname(file));
    try {
      return MemoryLog.replay(options, apply, unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  private static replay(
    options: MemoryLogOptions,
    apply: (record: LogRecord) => void,
    unlock: () => void,
  ): MemoryLog {
    const { file, logger } = options;
    // A rewrite that never reached its rename: the log itself is whole, this is a leftover.
    rmSync(rewriteFileOf(file), { force: true });
    const existed = existsSync(file);
    const bytes = existed ? readFileSync(file) : Buffer.alloc(0);
    const end = replayRecords(bytes, file, apply);
    const fd = openSync(file, 'a');
    if (end < bytes.length) {
      ftruncateSync(fd, end);
      fsyncSync(fd);
      logger?.warn(
        { file, droppedBytes: bytes.length - end },
        `broker log ${file} ended in a torn record: cut off its last ${bytes.length - end} bytes`,
      );
    }
    if (!existed) syncDirectory(dirname(file));
    return new MemoryLog(options, fd, end, unlock);
  }

  /** Queues a record; it is written with the others of this turn. */
  write(record: LogRecord): void {
    if (this.closed) throw new Error(`broker log ${this.file} is closed`);
    this.next.chunks.push(encodeRecord(record));
    // Scheduled even while a drain runs: one ending in this turn would not see the record.
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.kick();
    });
  }

  /** Resolves once every record queued so far is durable (per the fsync policy). */
  durable(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const batch = this.next.chunks.length > 0 ? this.next : this.inflight;
    if (batch === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }));
  }

  /** Writes what is queued, fsyncs and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    try {
      while (this.next.chunks.length > 0 || this.draining !== undefined) {
        await this.durable();
        await this.draining;
      }
      await this.syncing;
    } finally {
      this.closed = true;
      if (this.unsynced && this.failure === undefined) fsyncSync(this.fd);
      closeSync(this.fd);
      this.unlock();
    }
  }

  /**
   * everysec: fsyncs what was written, beside the writer as Redis does it in a thread of its own,
   * so appends never wait for it (they did when it ran between two batches: seconds of p99).
   */
  private syncEverySecond(): void {
    if (!this.unsynced || this.syncing !== undefined || this.failure !== undefined) return;
    this.unsynced = false;
    this.syncing = fdatasyncAsync(this.fd)
      .catch((error: unknown) => {
        this.fail(error, newBatch());
      })
      .finally(() => {
        this.syncing = undefined;
      });
  }

  /** Runs the writer unless it runs already; it stops when nothing is left to do. */
  private kick(): void {
    if (this.draining !== undefined || this.closed || this.failure !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.next.chunks.length === 0) return;
      const batch = this.next;
      this.next = newBatch();
      this.inflight = batch;
      try {
        if (this.shouldCompact()) {
          // Taken in the same turn as the batch: the image holds exactly what was applied.
          await this.rewrite(Buffer.concat([...this.options.snapshot()].map(encodeRecord)));
        } else {
          await this.append(Buffer.concat(batch.chunks));
        }
        for (const waiter of batch.waiters) waiter.resolve();
      } catch (error) {
        this.fail(error, batch);
        return;
      } finally {
        this.inflight = undefined;
      }
    }
  }

  private async append(bytes: Buffer): Promise<void> {
    await writeFully(this.fd, bytes);
    this.size += bytes.length;
    if (this.options.fsync === 'always') await fdatasyncAsync(this.fd);
    else this.unsynced = true;
  }

  /** Write a new file, fsync it, rename it over the log, fsync the directory. */
  private async rewrite(image: Buffer): Promise<void> {
    const temporary = rewriteFileOf(this.file);
    const fd = await openAsync(temporary, 'w');
    try {
      await writeFully(fd, image);
      await fsyncAsync(fd);
      await renameAsync(temporary, this.file);
    } catch (error) {
      await closeAsync(fd);
      throw error;
    }
    syncDirectory(dirname(this.file));
    // The old file's everysec fsync must end before its descriptor closes.
    await this.syncing;
    const previous = this.fd;
    this.fd = fd;
    this.size = this.baseSize = image.length;
    this.unsynced = false;
    await closeAsync(previous);
    this.options.logger?.debug({ file: this.file, bytes: image.length }, 'broker log rewritten');
  }

  private shouldCompact(): boolean {
    const threshold = this.options.compactAtBytes ?? 16 * 1024 * 1024;
    return this.size >= threshold && this.size >= 2 * this.baseSize;
  }

  private fail(error: unknown, batch: Batch): void {
    const failure = new Error(`broker log ${this.file} could not be written`, { cause: error });
    this.failure = failure;
    this.options.logger?.error({ err: error, file: this.file }, failure.message);
    for (const waiter of [...batch.waiters, ...this.next.waiters]) waiter.reject(failure);
    this.next = newBatch();
  }
}

function newBatch(): Batch {
  return { chunks: [], waiters: [] };
}

function rewriteFileOf(file: string): string {
  return `${file}.rewrite`;
}

function isBlank(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

async function writeFully(fd: number, bytes: Buffer): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await writeAsync(fd, bytes, written, bytes.length - written);
    written += bytesWritten;
  }
}

/** Makes a create or rename in `directory` durable (POSIX needs the directory fsynced too). */
function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

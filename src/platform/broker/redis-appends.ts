/**
 * Stream appends grouped per event-loop turn: every `append` to one stream made while the
 * process handles one round of I/O goes to Redis as a single script call that runs one XADD
 * per entry, in call order, and returns their ids. A service taking votes or ballots from
 * many connections at once then pays ioredis' per-command cost (a Command, a promise, a RESP
 * frame and reply) once per turn instead of once per entry, about half of an append's CPU
 * (bench/voting, (a)). The caller still hears back only once its own entry is in the stream.
 */
import type { Redis } from 'ioredis';

/**
 * KEYS[1]: the stream. ARGV[1]: the `MAXLEN ~` bound, or '' for none. Then per entry: how many
 * field and value strings follow, and those strings. Returns the new ids in entry order.
 */
const appendScript = `
local stream, maxLen = KEYS[1], ARGV[1]
local ids = {}
local at = 2
while at <= #ARGV do
  local count = tonumber(ARGV[at])
  if maxLen == '' then
    ids[#ids + 1] = redis.call('XADD', stream, '*', unpack(ARGV, at + 1, at + count))
  else
    ids[#ids + 1] = redis.call('XADD', stream, 'MAXLEN', '~', maxLen, '*', unpack(ARGV, at + 1, at + count))
  end
  at = at + count + 1
end
return ids
`;

/** The script as ioredis defines it on a connection (EVALSHA, falling back to EVAL once). */
interface AppendCommand {
  agoraAppend(stream: string, maxLen: string, ...entries: string[]): Promise<string[]>;
}

/** Registers the script on a connection; call once per connection before `AppendBatches`. */
export function defineAppendCommand(redis: Redis): void {
  redis.defineCommand('agoraAppend', { numberOfKeys: 1, lua: appendScript });
}

/** Sends one batch's script call over the main connection; errors are the caller's to map. */
export type SendBatch = (send: (redis: Redis) => Promise<string[]>) => Promise<string[]>;

/** A batch this large is sent at once rather than at the end of the turn, bounding a frame. */
const maxBatchEntries = 1_000;
/** Lua's unpack stops near 8,000 values; no service's entry comes near this many fields. */
const maxFieldsPerEntry = 1_000;

interface Waiter {
  resolve: (id: string) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  maxLen: string;
  args: string[];
  waiters: Waiter[];
}

export class AppendBatches {
  /** The open batch of each stream; it is sent when the current turn's I/O is done. */
  private readonly open = new Map<string, Batch>();

  constructor(private readonly sendBatch: SendBatch) {}

  /** Queues one entry; resolves with its id once the batch holding it is in the stream. */
  add(stream: string, fields: Record<string, string>, maxLen: number | undefined): Promise<string> {
    const strings: string[] = [];
    for (const name of Object.keys(fields)) strings.push(name, fields[name] ?? '');
    // Refused here, alone: inside a batch, Redis' own error would fail every other entry too.
    if (strings.length === 0) {
      return Promise.reject(new Error('an appended entry needs at least one field'));
    }
    if (strings.length > 2 * maxFieldsPerEntry) {
      return Promise.reject(
        new Error(`an appended entry takes at most ${maxFieldsPerEntry} fields`),
      );
    }
    if (maxLen !== undefined && !(Number.isSafeInteger(maxLen) && maxLen >= 0)) {
      return Promise.reject(new Error(`maxLen must be a whole number >= 0, not ${maxLen}`));
    }

    const bound = maxLen === undefined ? '' : String(maxLen);
    let batch = this.open.get(stream);
    // A different bound needs a call of its own: the open batch goes first, keeping call order.
    if (batch !== undefined && batch.maxLen !== bound) {
      this.flush(stream, batch);
      batch = undefined;
    }
    batch ??= this.start(stream, bound);
    batch.args.push(String(strings.length), ...strings);
    const id = new Promise<string>((resolve, reject) => {
      batch.waiters.push({ resolve, reject });
    });
    if (batch.waiters.length >= maxBatchEntries) this.flush(stream, batch);
    return id;
  }

  private start(stream: string, maxLen: string): Batch {
    const batch: Batch = { maxLen, args: [], waiters: [] };
    this.open.set(stream, batch);
    // After the I/O callbacks of this turn: every request read in it has added its entry.
    setImmediate(() => {
      this.flush(stream, batch);
    });
    return batch;
  }

  private flush(stream: string, batch: Batch): void {
    // A batch sent early (full, or before one with another bound) is gone by its end of turn.
    if (this.open.get(stream) !== batch) return;
    this.open.delete(stream);
    const { maxLen, args, waiters } = batch;
    this.sendBatch((redis) =>
      (redis as Redis & AppendCommand).agoraAppend(stream, maxLen, ...args),
    ).then(
      (ids) => {
        waiters.forEach((waiter, index) => {
          const id = ids[index];
          if (id === undefined) waiter.reject(new Error(`Redis returned no id for entry ${index}`));
          else waiter.resolve(id);
        });
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}

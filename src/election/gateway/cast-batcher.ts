/**
 * The gateway's single-ballot gRPC requests, coalesced: the `cast` calls of one event-loop turn
 * go to election-grpc as one `CastBatch`, and each caller gets its own ballot's outcome, as a
 * `Cast` of its own would have given it (a conflicting ballot fails alone). One call per turn
 * instead of one per request is what the gateway's CPU goes on: a gRPC call costs it several
 * times what the ballot's own work does.
 *
 * An election-grpc older than `CastBatch` answers it UNIMPLEMENTED (a rolling update that
 * reached the gateway first): its ballots then go as one `Cast` each, as they did before
 * `CastBatch` existed, and `CastBatch` is tried again after `recheckMs`.
 */
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';

import type { Ballot } from '../ballot.js';
import { type BallotsClient, isServiceError } from '../grpc-client.js';
import type { CastReply } from '../grpc-proto.js';

export interface CastBatcherOptions {
  /** Most ballots in one call; a full batch is sent without waiting for the turn to end. */
  maxBallots?: number;
  /**
   * Most bytes of ballot fields in one call, well under election-grpc's receive limit
   * (`ELECTION_GRPC_MAX_MESSAGE_BYTES`, 64 KiB by default).
   */
  maxBytes?: number;
  /** How long a server that answered `CastBatch` UNIMPLEMENTED is sent `Cast`s only. */
  recheckMs?: number;
  /** Told each time the server answers `CastBatch` UNIMPLEMENTED (the gateway logs it). */
  onUnimplemented?: () => void;
}

interface Pending {
  ballot: Ballot;
  resolve: (reply: CastReply) => void;
  reject: (error: unknown) => void;
}

/** Protobuf's framing per ballot: a tag and a length for the message and each of its fields. */
const framingBytes = 24;

export class CastBatcher {
  readonly #client: BallotsClient;
  readonly #maxBallots: number;
  readonly #maxBytes: number;
  readonly #recheckMs: number;
  readonly #onUnimplemented: () => void;
  /** Until this time (ms since the epoch) each ballot goes as a `Cast` of its own. */
  #castEachUntil = 0;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #scheduled = false;

  constructor(client: BallotsClient, options: CastBatcherOptions = {}) {
    this.#client = client;
    this.#maxBallots = options.maxBallots ?? 200;
    this.#maxBytes = options.maxBytes ?? 32 * 1024;
    this.#recheckMs = options.recheckMs ?? 30_000;
    this.#onUnimplemented = options.onUnimplemented ?? (() => undefined);
  }

  /** Stores one ballot with the others of this turn; settles as a `Cast` of it would. */
  cast(ballot: Ballot): Promise<CastReply> {
    return new Promise((resolve, reject) => {
      const bytes = sizeOf(ballot);
      if (this.#queue.length > 0 && this.#queuedBytes + bytes > this.#maxBytes) this.#flush();
      this.#queue.push({ ballot, resolve, reject });
      this.#queuedBytes += bytes;
      if (this.#queue.length >= this.#maxBallots) this.#flush();
      else this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate runs after this turn's I/O callbacks: every request that arrived in it has
    // been parsed and has called cast() by then.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    void this.#send(batch);
  }

  async #send(batch: readonly Pending[]): Promise<void> {
    if (Date.now() < this.#castEachUntil) {
      this.#castEach(batch);
      return;
    }
    let outcomes;
    try {
      outcomes = await this.#client.castBatch(batch.map((pending) => pending.ballot));
    } catch (error) {
      if (isServiceError(error) && error.code === status.UNIMPLEMENTED) {
        // The server ran nothing of the call, so every ballot is still to be sent.
        this.#castEachUntil = Date.now() + this.#recheckMs;
        this.#onUnimplemented();
        this.#castEach(batch);
        return;
      }
      // Nothing of the call is known to be stored (UNAVAILABLE, DEADLINE_EXCEEDED, ...): every
      // caller gets the error, and retrying with the same ids is harmless.
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const [i, pending] of batch.entries()) {
      const outcome = outcomes[i];
      if (outcome === undefined) pending.reject(new Error('CastBatch gave this ballot no outcome'));
      else if (outcome.code === status.OK)
        pending.resolve({ id: outcome.id, duplicate: outcome.duplicate });
      else pending.reject(statusError(outcome.code, outcome.details));
    }
  }

  #castEach(batch: readonly Pending[]): void {
    for (const pending of batch) {
      this.#client.cast(pending.ballot).then(pending.resolve, pending.reject);
    }
  }
}

/** The error a failed `Cast` would have rejected with, so callers map it the same way. */
function statusError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

function sizeOf(ballot: Ballot): number {
  return (
    framingBytes +
    Buffer.byteLength(ballot.id) +
    Buffer.byteLength(ballot.sede) +
    Buffer.byteLength(ballot.municipio) +
    Buffer.byteLength(ballot.departamento) +
    Buffer.byteLength(ballot.papeleta) +
    Buffer.byteLength(ballot.partido)
  );
}

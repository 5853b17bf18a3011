/**
 * A TCP relay that stands between a service and its backend (Redis, Postgres, another service)
 * and injects the faults a network gives: latency, reset connections, a blackhole that accepts
 * and never answers. The chaos tests and the console's "cut a service off" action use it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the relay does to traffic. */
export type Fault =
  /** Forward every byte at once. */
  | { kind: 'pass' }
  /** Forward every byte `ms` later, in order, in both directions. */
  | { kind: 'latency'; ms: number }
  /** Reset every live connection, and every new one as it arrives: a backend that went away. */
  | { kind: 'reset' }
  /** Accept connections, never forward or answer: a partition. Bytes are held, not dropped, so
   * connections that outlive it carry on afterwards as TCP would after a partition heals. */
  | { kind: 'blackhole' };

export interface FaultProxyOptions {
  /** Where the relay listens (default 127.0.0.1). */
  host?: string;
  /** Its port (default 0: a free one). */
  port?: number;
  /** Where it forwards to. */
  target: { host: string; port: number };
  /** The fault in force from the start (default pass). */
  fault?: Fault;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** `forUrl` (e.g. a `postgres://` or `redis://` URL of the target) pointed at the relay. */
  url(forUrl: string): string;
  /** The fault in force. */
  readonly fault: Fault;
  setFault(fault: Fault): void;
  /** Puts `fault` (default reset) in force for `ms`, then restores the one before it. A later
   * `setFault` or `faultFor` wins over the pending restore. */
  faultFor(ms: number, fault?: Fault): Promise<void>;
  /** Client connections open now. */
  readonly connections: number;
  /** Client connections accepted since the start. */
  readonly accepted: number;
  /** Bytes read from clients since the start, forwarded or not yet. */
  readonly bytesFromClients: number;
  close(): Promise<void>;
}

const pass: Fault = { kind: 'pass' };

/** One direction of a relayed connection: bytes from `from` written to `to`, delayed or held. */
class Leg {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly to: () => Socket | undefined,
    private readonly fault: () => Fault,
  ) {}

  push(chunk: Buffer): void {
    const fault = this.fault();
    const delayMs = fault.kind === 'latency' ? fault.ms : 0;
    // Never earlier than what is already queued: a latency lowered mid-flight keeps the order.
    const at = Math.max(Date.now() + delayMs, this.queue.at(-1)?.at ?? 0);
    this.queue.push({ at, chunk });
    this.pump();
  }

  /** Writes what is due; held while the fault is a blackhole or the other side is not open. */
  pump(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const to = this.to();
    if (this.fault().kind === 'blackhole' || to === undefined || to.connecting) return;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head === undefined) break;
      const waitMs = head.at - Date.now();
      if (waitMs > 0) {
        this.timer = setTimeout(() => {
          this.pump();
        }, waitMs);
        return;
      }
      this.queue.shift();
      if (!to.destroyed) to.write(head.chunk);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** A client connection and its upstream, which is opened only once the fault lets bytes by. */
class Relay {
  upstream: Socket | undefined;
  private readonly out: Leg;
  private readonly back: Leg;

  constructor(
    readonly client: Socket,
    private readonly target: { host: string; port: number },
    private readonly fault: () => Fault,
    private readonly onClose: (relay: Relay) => void,
    private readonly onRead: (bytes: number) => void,
  ) {
    this.out = new Leg(() => this.upstream, fault);
    this.back = new Leg(() => this.client, fault);
    client.on('data', (chunk: Buffer) => {
      onRead(chunk.length);
      this.out.push(chunk);
    });
    client.on('error', () => {
      this.destroy();
    });
    client.on('close', () => {
      this.destroy();
    });
    this.apply();
  }

  /** Follows the fault now in force. */
  apply(): void {
    const fault = this.fault();
    if (fault.kind === 'reset') {
      this.reset();
      return;
    }
    if (fault.kind !== 'blackhole' && this.upstream === undefined) this.openUpstream();
    this.out.pump();
    this.back.pump();
  }

  private openUpstream(): void {
    const upstream = connect(this.target.port, this.target.host);
    this.upstream = upstream;
    upstream.on('connect', () => {
      this.out.pump();
    });
    upstream.on('data', (chunk: Buffer) => {
      this.back.push(chunk);
    });
    upstream.on('error', () => {
      this.reset();
    });
    upstream.on('close', () => {
      this.destroy();
    });
  }

  /** An RST to the client, as a backend that died would give. */
  reset(): void {
    if (!this.client.destroyed) this.client.resetAndDestroy();
    this.destroy();
  }

  destroy(): void {
    this.out.stop();
    this.back.stop();
    this.client.destroy();
    this.upstream?.destroy();
    this.onClose(this);
  }
}

/** Starts a relay to `target` with the given fault in force (default pass). */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  let fault: Fault = options.fault ?? pass;
  let accepted = 0;
  let bytesFromClients = 0;
  let restore: { timer: NodeJS.Timeout; done: () => void } | undefined;
  const relays = new Set<Relay>();

  const server: Server = createServer((client) => {
    accepted += 1;
    if (fault.kind === 'reset') {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    relays.add(
      new Relay(
        client,
        options.target,
        () => fault,
        (relay) => relays.delete(relay),
        (bytes) => {
          bytesFromClients += bytes;
        },
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const setFault = (next: Fault): void => {
    if (next.kind === 'latency' && !(Number.isFinite(next.ms) && next.ms >= 0)) {
      throw new RangeError(`latency must be a number of milliseconds >= 0, got ${next.ms}`);
    }
    if (restore !== undefined) {
      clearTimeout(restore.timer);
      restore.done();
      restore = undefined;
    }
    fault = next;
    for (const relay of [...relays]) relay.apply();
  };

  return {
    host,
    port,
    url(forUrl: string): string {
      const url = new URL(forUrl);
      url.hostname = host;
      url.port = String(port);
      return url.href;
    },
    get fault() {
      return fault;
    },
    setFault,
    faultFor(ms: number, next: Fault = { kind: 'reset' }): Promise<void> {
      const before = fault;
      setFault(next);
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          restore = undefined;
          setFault(before);
          resolve();
        }, ms);
        restore = { timer, done: resolve };
      });
    },
    get connections() {
      return relays.size;
    },
    get accepted() {
      return accepted;
    },
    get bytesFromClients() {
      return bytesFromClients;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (restore !== undefined) {
          clearTimeout(restore.timer);
          restore.done();
          restore = undefined;
        }
        for (const relay of [...relays]) relay.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

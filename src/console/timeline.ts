/** The console's timeline: what happened, when, to which process, newest last, bounded. */

export type TimelineKind =
  | 'started'
  | 'ready'
  | 'not-ready'
  | 'down'
  | 'killed'
  | 'stopped'
  | 'exited'
  | 'restarted'
  | 'scaled'
  | 'reclaimed'
  | 'dead-lettered'
  | 'reassigned'
  | 'fault'
  | 'load';

export interface TimelineEvent {
  id: number;
  at: string;
  kind: TimelineKind;
  /** The process, service, stream or area it is about. */
  subject: string;
  message: string;
}

const kept = 500;

export class Timeline {
  readonly #events: TimelineEvent[] = [];
  #nextId = 1;

  add(kind: TimelineKind, subject: string, message: string): TimelineEvent {
    const event = { id: this.#nextId++, at: new Date().toISOString(), kind, subject, message };
    this.#events.push(event);
    if (this.#events.length > kept) this.#events.splice(0, this.#events.length - kept);
    return event;
  }

  /** Events after `afterId`, oldest first; the last `limit` of them. */
  since(afterId = 0, limit = kept): TimelineEvent[] {
    return this.#events.filter((event) => event.id > afterId).slice(-limit);
  }
}

import { describe, expect, it } from 'vitest';

import { Timeline } from './timeline.js';

describe('the timeline', () => {
  it('keeps each event’s facts as data and says them in English for the terminal', () => {
    const timeline = new Timeline();
    const killed = timeline.add({
      kind: 'killed',
      subject: 'worker#1',
      detail: { signal: 'SIGKILL', pid: 42 },
    });
    expect(killed).toMatchObject({ id: 1, detail: { signal: 'SIGKILL', pid: 42 } });
    expect(killed.message).toBe('SIGKILL to pid 42');
    const moved = timeline.add({
      kind: 'reassigned',
      subject: 'sports',
      detail: { from: ['node'], to: [] },
    });
    expect(moved.message).toBe('sports: node -> none');
    const load = timeline.add({
      kind: 'load',
      subject: 'voting',
      detail: {
        id: 3,
        phase: 'passed',
        exitCode: 0,
        acknowledged: 10,
        checked: 10,
        differences: 0,
      },
    });
    expect(load.message).toBe(
      'load 3 passed: 10 acknowledged, 10 checked against the store, 0 differences',
    );
    expect(timeline.since(1).map((event) => event.kind)).toEqual(['reassigned', 'load']);
  });
});

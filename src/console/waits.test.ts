import { describe, expect, it } from 'vitest';

import { describeWait, reasonOf } from './waits.js';

describe('what a process waits for', () => {
  it('sorts the services’ own reasons into codes the page can translate', () => {
    expect(reasonOf('waiting for the broker')).toEqual({ code: 'waiting-for', what: 'broker' });
    expect(reasonOf('waiting for the schema')).toEqual({ code: 'waiting-for', what: 'schema' });
    expect(reasonOf('no answer within 1000 ms')).toEqual({ code: 'no-answer', ms: 1000 });
    expect(reasonOf('ECONNREFUSED')).toEqual({ code: 'unreachable', error: 'ECONNREFUSED' });
    expect(reasonOf('waiting')).toEqual({ code: 'waiting' });
  });

  it('keeps any other reason as it was written', () => {
    const text = 'password authentication failed for user "x"';
    expect(reasonOf(text)).toEqual({ code: 'other', text });
    expect(describeWait({ check: 'sql (pg)', reason: reasonOf(text) })).toBe(`sql (pg): ${text}`);
  });
});

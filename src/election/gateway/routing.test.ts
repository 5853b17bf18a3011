/** The ingest split: weights parse strictly, and the pick follows them. */
import { describe, expect, it } from 'vitest';

import { parseRouteWeights, pickRoute } from './routing.js';

describe('parseRouteWeights', () => {
  it.each([
    ['grpc=1,redis=1', { grpc: 1, redis: 1 }],
    [' grpc = 3 , redis=0.5', { grpc: 3, redis: 0.5 }],
    ['redis=1', { grpc: 0, redis: 1 }],
  ])('reads %s', (raw, weights) => {
    expect(parseRouteWeights(raw)).toEqual(weights);
  });

  it.each(['grpc=0,redis=0', 'grpc=1,grpc=2', 'kafka=1', 'grpc=-1', 'grpc', ''])(
    'refuses %j',
    (raw) => {
      expect(parseRouteWeights(raw)).toBeUndefined();
    },
  );
});

describe('pickRoute', () => {
  it('draws in proportion to the weights', () => {
    const weights = { grpc: 3, redis: 1 };
    expect(pickRoute(weights, () => 0)).toBe('grpc');
    expect(pickRoute(weights, () => 0.74)).toBe('grpc');
    expect(pickRoute(weights, () => 0.75)).toBe('redis');
    expect(pickRoute({ grpc: 0, redis: 1 }, () => 0)).toBe('redis');
    expect(pickRoute({ grpc: 1, redis: 0 }, () => 0.999)).toBe('grpc');
  });
});

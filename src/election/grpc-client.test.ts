/** The gRPC address forms AGORA_ELECTION_GRPC_URL accepts, and which errors may be retried. */
import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';

import { grpcAddressOf, isRetryableGrpcError } from './grpc-client.js';

describe('grpcAddressOf', () => {
  it.each([
    ['127.0.0.1:50051', '127.0.0.1:50051'],
    ['grpc://election-grpc:50051', 'election-grpc:50051'],
    ['http://10.0.0.5:50051/', '10.0.0.5:50051'],
    ['dns:///election-grpc:50051', 'dns:///election-grpc:50051'],
  ])('%s -> %s', (raw, address) => {
    expect(grpcAddressOf(raw)).toBe(address);
  });
});

describe('isRetryableGrpcError', () => {
  const failure = (code: status) =>
    Object.assign(new Error('x'), { code, details: 'x', metadata: new Metadata() });
  it('retries UNAVAILABLE and DEADLINE_EXCEEDED, not a refused ballot', () => {
    expect(isRetryableGrpcError(failure(status.UNAVAILABLE))).toBe(true);
    expect(isRetryableGrpcError(failure(status.DEADLINE_EXCEEDED))).toBe(true);
    expect(isRetryableGrpcError(failure(status.INVALID_ARGUMENT))).toBe(false);
    expect(isRetryableGrpcError(new Error('plain'))).toBe(false);
  });
});

/**
 * The one place errors become gRPC statuses: a bad ballot is INVALID_ARGUMENT naming the field,
 * a ballot id stored with other fields is ALREADY_EXISTS, a database or broker that does not answer is UNAVAILABLE (retry later), anything else INTERNAL
 * with no internals shown.
 */
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';

import { ConflictError, UnavailableError, ValidationError } from '../../platform/errors.js';

/** A status a handler passes to its callback. */
export interface GrpcFailure {
  code: status;
  details: string;
}

export class GrpcRefusal extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'GrpcRefusal';
  }
}

export function toGrpcStatus(error: unknown): GrpcFailure & { unexpected: boolean } {
  if (error instanceof GrpcRefusal)
    return { code: error.code, details: error.message, unexpected: false };
  if (error instanceof ValidationError) {
    return { code: status.INVALID_ARGUMENT, details: error.message, unexpected: false };
  }
  if (error instanceof ConflictError) {
    return { code: status.ALREADY_EXISTS, details: error.message, unexpected: false };
  }
  if (error instanceof UnavailableError) {
    return { code: status.UNAVAILABLE, details: error.message, unexpected: false };
  }
  return {
    code: status.INTERNAL,
    details: 'Something went wrong on our side; it has been logged.',
    unexpected: true,
  };
}

/** The error object grpc-js expects in a handler's callback. */
export function serviceError(failure: GrpcFailure): Partial<ServiceError> {
  return { code: failure.code, details: failure.details, metadata: new Metadata() };
}

/**
 * A ballot as the seed's Locust files send it (`sede`, `municipio`, `departamento`, `papeleta`,
 * `partido`) plus an optional client-chosen `id` that makes retries idempotent. Every route
 * (HTTP gateway, gRPC, stream entries) checks untrusted input here, once.
 */
import { randomUUID } from 'node:crypto';

import { ValidationError } from '../platform/errors.js';

export const ballotFields = ['sede', 'municipio', 'departamento', 'papeleta', 'partido'] as const;
export type BallotField = (typeof ballotFields)[number];

export interface Ballot {
  id: string;
  sede: string;
  municipio: string;
  departamento: string;
  papeleta: string;
  partido: string;
}

/** How a ballot reached Postgres: forwarded over gRPC, or through the `ballots` stream. */
export type Route = 'grpc' | 'redis';
export const routes: readonly Route[] = ['grpc', 'redis'];

export const maxFieldLength = 100;
/** Ids are keys in Postgres, stream entries and URLs: short and plain. */
export const ballotIdPattern = /^[A-Za-z0-9_.:-]{1,64}$/;

const allowedKeys = new Set<string>(['id', ...ballotFields]);
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** A fresh ballot id, for ballots that arrive without one. */
export function newBallotId(): string {
  return randomUUID();
}

/**
 * Validates one untrusted ballot; throws ValidationError naming the field (prefixed with
 * `path`, e.g. `[3].partido`); generates the id when absent.
 */
export function parseBallot(input: unknown, path = ''): Ballot {
  const where = (key: string) => (path === '' ? key : `${path}.${key}`);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(
      `${path === '' ? 'the ballot' : path} must be a JSON object with ${ballotFields.join(', ')}`,
    );
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!allowedKeys.has(key)) throw new ValidationError(`${where(key)}: unknown field`);
  }
  const values = {} as Record<BallotField, string>;
  for (const field of ballotFields) {
    values[field] = fieldValue(record[field], where(field));
  }
  return { id: idValue(record.id, where('id')), ...values };
}

/**
 * A request body: one ballot or an array of 1..`maxBallots`. Array items are named by index
 * (`[3].partido`) so a client can find the bad one.
 */
export function parseBallots(input: unknown, maxBallots: number): Ballot[] {
  if (!Array.isArray(input)) return [parseBallot(input)];
  if (input.length === 0) throw new ValidationError('the array holds no ballots');
  if (input.length > maxBallots) {
    throw new ValidationError(
      `the array holds ${input.length} ballots; send at most ${maxBallots} per request`,
    );
  }
  const ballots = input.map((item: unknown, index) => parseBallot(item, `[${index}]`));
  return ballots;
}

function fieldValue(value: unknown, name: string): string {
  if (value === undefined || value === null) throw new ValidationError(`${name}: missing field`);
  if (typeof value !== 'string') {
    throw new ValidationError(`${name} must be a string, got ${describe(value)}`);
  }
  if (value.trim() === '') throw new ValidationError(`${name} must not be empty`);
  // Postgres text cannot hold NUL: one would fail every retry of its batch, so refuse it here.
  if (controlCharacter.test(value)) {
    throw new ValidationError(`${name} must not contain control characters`);
  }
  if (value.length > maxFieldLength) {
    throw new ValidationError(`${name} must be at most ${maxFieldLength} characters`);
  }
  return value;
}

function idValue(value: unknown, name: string): string {
  // gRPC has no "absent" for a string: an empty id means "generate one" there and here.
  if (value === undefined || value === null || value === '') return newBallotId();
  if (typeof value !== 'string') {
    throw new ValidationError(`${name} must be a string, got ${describe(value)}`);
  }
  if (!ballotIdPattern.test(value)) {
    throw new ValidationError(`${name} must be 1 to 64 characters of A-Z a-z 0-9 _ . : -`);
  }
  return value;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

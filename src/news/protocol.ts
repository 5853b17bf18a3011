/**
 * The news wire protocol (seed 002's "sockets, short connections"): one newline-terminated
 * JSON request and one JSON response per TCP connection. Frame shapes, version, error codes
 * and the frame size limit live here; both servers and the client import them.
 */

export const newsSystem = 'news';
export const protocolVersion = 1;
/** Largest frame, newline included; a longer line gets `frame_too_large` and a close. */
export const maxFrameBytes = 64 * 1024;

export const limits = {
  nameChars: 64,
  areaChars: 64,
  passwordMinChars: 8,
  passwordMaxChars: 256,
  newsChars: 4_000,
  keyChars: 64,
} as const;

/** Every error a client can be told; the README says when each is sent. */
export const errorCodes = [
  'bad_json',
  'bad_frame',
  'frame_too_large',
  'unsupported_version',
  'unknown_op',
  'invalid_request',
  'idle_timeout',
  'busy',
  'timeout',
  'rate_limited',
  'unauthenticated',
  'token_expired',
  'bad_credentials',
  'forbidden',
  'not_author',
  'not_subscribed',
  'not_found',
  'name_taken',
  'wrong_node',
  'no_node',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** An error with a protocol code; servers send its code and message, clients throw it. */
export class NewsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NewsError';
  }
}

export type FrameId = string | number;

/** A request as it arrives: `op` and `id` checked, the rest validated by each operation. */
export interface RequestFrame {
  v: number;
  id: FrameId;
  op: string;
  token?: string;
  [field: string]: unknown;
}

export interface OkResponse<T = unknown> {
  v: number;
  id: FrameId | null;
  ok: true;
  result: T;
}

export interface ErrorResponse {
  v: number;
  id: FrameId | null;
  ok: false;
  error: { code: ErrorCode; message: string };
}

export type ResponseFrame<T = unknown> = OkResponse<T> | ErrorResponse;

export function okFrame<T>(id: FrameId | null, result: T): OkResponse<T> {
  return { v: protocolVersion, id, ok: true, result };
}

export function errorFrame(id: FrameId | null, code: ErrorCode, message: string): ErrorResponse {
  return { v: protocolVersion, id, ok: false, error: { code, message } };
}

/** Parses one line into a request frame, or throws NewsError saying what is wrong. */
export function parseRequest(line: string): RequestFrame {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new NewsError('bad_json', 'the frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new NewsError('bad_frame', 'a frame must be a JSON object');
  }
  const frame = value as Record<string, unknown>;
  if (typeof frame.id !== 'string' && typeof frame.id !== 'number') {
    throw new NewsError('bad_frame', 'field "id" must be a string or a number');
  }
  if (frame.v !== protocolVersion) {
    throw new NewsError(
      'unsupported_version',
      `protocol version ${JSON.stringify(frame.v)} is not supported; this server speaks ${protocolVersion}`,
    );
  }
  if (typeof frame.op !== 'string' || frame.op === '') {
    throw new NewsError('bad_frame', 'field "op" must be a non-empty string');
  }
  if (frame.token !== undefined && typeof frame.token !== 'string') {
    throw new NewsError('bad_frame', 'field "token" must be a string');
  }
  return frame as RequestFrame;
}

/** The id of a frame that failed to parse, when it has one, so the error can echo it. */
export function idOf(line: string): FrameId | null {
  try {
    const value = JSON.parse(line) as { id?: unknown };
    return typeof value.id === 'string' || typeof value.id === 'number' ? value.id : null;
  } catch {
    return null;
  }
}

/** Length in Unicode code points, so a limit of 64 characters means 64 for any script. */
export function charCount(text: string): number {
  return Array.from(text).length;
}

// Field readers: validate once at the boundary, with the field's name in the message.

export function textField(frame: RequestFrame, field: string, maxChars: number): string {
  const value = frame[field];
  if (typeof value !== 'string') {
    throw new NewsError('invalid_request', `field "${field}" must be a string`);
  }
  const trimmed = value.trim();
  if (trimmed === '' || charCount(trimmed) > maxChars) {
    throw new NewsError(
      'invalid_request',
      `field "${field}" must have 1 to ${maxChars} characters`,
    );
  }
  // Control characters (C0 and C1: terminal escapes) would break the console's lines, and
  // direction overrides make text read other than it is; newlines in news text are kept.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(trimmed)) {
    throw new NewsError('invalid_request', `field "${field}" must not hold control characters`);
  }
  return trimmed;
}

export function passwordField(frame: RequestFrame): string {
  const value = frame.password;
  const { passwordMinChars: min, passwordMaxChars: max } = limits;
  if (typeof value !== 'string' || charCount(value) < min || charCount(value) > max) {
    throw new NewsError(
      'invalid_request',
      `field "password" must have ${min} to ${max} characters`,
    );
  }
  return value;
}

/** Most news items one read returns, oldest first; `after` (the last id seen) gets the next. */
export const maxNewsPerRead = 500;

export function idField(frame: RequestFrame, field: string): string {
  const value = frame[field];
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^[1-9]\d{0,17}$/.test(text)) {
    throw new NewsError('invalid_request', `field "${field}" must be a positive whole number`);
  }
  return text;
}

export function optionalBoolean(frame: RequestFrame, field: string): boolean {
  const value = frame[field];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new NewsError('invalid_request', `field "${field}" must be true or false`);
  }
  return value;
}

export function optionalText(
  frame: RequestFrame,
  field: string,
  maxChars: number,
): string | undefined {
  return frame[field] === undefined ? undefined : textField(frame, field, maxChars);
}

// Results, shared by servers and client.

export interface UserView {
  id: string;
  name: string;
  admin: boolean;
}

export interface LoginResult {
  token: string;
  user: UserView;
  expiresAt: string;
}

export interface AreaView {
  name: string;
  subscribed: boolean;
  nodes: string[];
  /** How many news items it holds (removing it removes them). */
  news: number;
}

export interface NewsView {
  id: string;
  area: string;
  author: string;
  text: string;
  postedAt: string;
  /** Whether this user had read it before this request. */
  wasRead: boolean;
}

export interface RouteResult {
  area: string;
  node: string;
}

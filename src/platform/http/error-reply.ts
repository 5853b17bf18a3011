/**
 * The one place errors become HTTP answers: `{ error: { code, message } }` with the right status.
 * Known errors keep their message; anything unexpected is a 500 with no internals shown.
 */
import type { FastifyError } from 'fastify';

import { AgoraError } from '../errors.js';

export interface ErrorBody {
  error: { code: string; message: string };
  /** An error's details, e.g. the ids of ballots to retry. */
  [detail: string]: unknown;
}

export interface ErrorReply {
  status: number;
  body: ErrorBody;
}

/** Fastify's own request errors, with the code and wording a client should see. */
const fastifyErrors: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'malformed_json',
    message: 'The request body is not valid JSON.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'malformed_json',
    message: 'The request says it is JSON but its body is empty.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
};

export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** What each pattern a schema declared with `describedPattern` means, for its error message. */
const patternMeanings = new Map<string, string>();

/** A schema pattern whose refusal reads "The field "title" must hold text ..." rather than the regex. */
export function describedPattern(pattern: string, meaning: string): string {
  patternMeanings.set(pattern, meaning);
  return pattern;
}

/** What a field is called in a sentence: "The field "title"", "The query parameter "limit"". */
const fieldKinds: Record<string, string> = {
  body: 'The field',
  querystring: 'The query parameter',
  params: 'The path parameter',
  headers: 'The header',
};

function subjectOf(context: string, instancePath: string): string {
  const kind = fieldKinds[context];
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (kind === undefined || path === '') return `${context}${instancePath.replaceAll('/', '.')}`;
  return `${kind} "${path}"`;
}

/**
 * Sentences a person reads: "body: unknown field "x"" rather than Ajv's "body must NOT have
 * additional properties", "The field "title" must not be empty." rather than "body.title must
 * NOT have fewer than 1 characters".
 */
export function describeValidationIssue(context: string, issue: ValidationIssue): string {
  const path = `${context}${issue.instancePath.replaceAll('/', '.')}`;
  const where = subjectOf(context, issue.instancePath);
  const field = (name: unknown) => (typeof name === 'string' ? name : JSON.stringify(name));
  switch (issue.keyword) {
    case 'additionalProperties':
      return `${path}: unknown field "${field(issue.params.additionalProperty)}"`;
    case 'required':
      return `${path}: missing field "${field(issue.params.missingProperty)}"`;
    case 'minLength':
      return issue.params.limit === 1
        ? `${where} must not be empty.`
        : `${where} must be at least ${String(issue.params.limit)} characters long.`;
    case 'maxLength':
      return `${where} must be at most ${String(issue.params.limit)} characters long.`;
    case 'minimum':
    case 'maximum':
      return `${where} must be ${issue.keyword === 'minimum' ? 'at least' : 'at most'} ${String(issue.params.limit)}.`;
    case 'type': {
      const type = String(issue.params.type);
      const noun = type === 'integer' ? 'whole number' : type;
      // Numbers in URLs arrive as text: say how to write one ("0x10" and "1e3" are refused).
      const written = context !== 'body' && (type === 'integer' || type === 'number');
      return `${where} must be ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}${written ? ' in decimal digits' : ''}.`;
    }
    case 'pattern': {
      const meaning = patternMeanings.get(String(issue.params.pattern));
      if (meaning !== undefined) return `${where} ${meaning}.`;
      return issue.params.pattern === '\\S'
        ? `${where} must not be blank.`
        : `${where} must match the pattern ${String(issue.params.pattern)}.`;
    }
    case 'const':
    case 'enum':
      return `${where} is not one of the values it may take.`;
    default:
      return `${where} ${issue.message ?? 'is invalid'}`;
  }
}

export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof AgoraError) {
    return reply(error.status, error.code, error.message, error.details);
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined && fastifyError.validation.length > 0) {
    const [first] = fastifyError.validation as ValidationIssue[];
    const context = fastifyError.validationContext ?? 'request';
    return reply(
      400,
      'invalid_request',
      describeValidationIssue(context, first as ValidationIssue),
    );
  }
  const known = fastifyError.code === undefined ? undefined : fastifyErrors[fastifyError.code];
  if (known !== undefined) {
    return reply(known.status, known.code, known.message ?? fastifyError.message ?? known.code);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply(status, 'bad_request', fastifyError.message ?? 'Bad request.');
  }
  return reply(500, 'internal', 'Something went wrong on our side; it has been logged.');
}

function reply(
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): ErrorReply {
  return { status, body: { ...details, error: { code, message } } };
}

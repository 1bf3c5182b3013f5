/**
 * Errors the SDK throws. Every one is an `OGRecordsError`:
 *
 *   OGRecordsError
 *   ├── APIError                      the API answered with an error status (problem+json)
 *   │   ├── BadRequestError           400 and any other 4xx
 *   │   ├── AuthenticationError       401
 *   │   ├── PermissionDeniedError     403
 *   │   ├── NotFoundError             404
 *   │   ├── ConflictError             409
 *   │   ├── UnprocessableEntityError  422 (validation: see `errors`)
 *   │   ├── RateLimitError            429 (see `retryAfter`)
 *   │   └── InternalServerError       5xx
 *   ├── APIConnectionError            no response: DNS, refused connection, reset
 *   │   └── APIConnectionTimeoutError the request timed out
 *   └── WebhookVerificationError      a webhook's signature or timestamp did not check out
 */

import { ERROR_NAMES, FALLBACK_CLIENT_ERROR, FALLBACK_SERVER_ERROR } from '../surface.gen.js';

/** One failing field or rule of a validation failure. */
export interface FieldError {
  code: string;
  /** A JSON pointer into the request body, or `query:name` / `header:Name` for parameters. */
  pointer: string;
  detail: string;
}

export class OGRecordsError extends Error {
  override name = 'OGRecordsError';
}

export class APIError extends OGRecordsError {
  override name = 'APIError';
  /** The HTTP status code. */
  readonly status: number;
  /** The stable, machine-readable problem code (e.g. `validation_failed`), or `unknown` for a body without one. */
  readonly code: string;
  /** The human-readable explanation of this occurrence. */
  readonly detail: string | undefined;
  /** For validation failures, every failing field or rule. */
  readonly errors: readonly FieldError[];
  /** The request id (`X-Request-Id`): quote it when you contact support. */
  readonly requestId: string | undefined;
  /** The whole parsed error body (the problem document, or an OAuth error object). */
  readonly body: unknown;
  readonly headers: Headers;

  constructor(status: number, body: unknown, headers: Headers) {
    const fields = readProblem(body);
    const requestId = fields.requestId ?? headers.get('x-request-id') ?? undefined;
    super(`${status} ${fields.code}${fields.detail ? `: ${fields.detail}` : ''}${requestId ? ` (request ${requestId})` : ''}`);
    this.status = status;
    this.code = fields.code;
    this.detail = fields.detail;
    this.errors = fields.errors;
    this.requestId = requestId;
    this.body = body;
    this.headers = headers;
  }

  /** The error class for a status: `APIError.from(404, …)` is a `NotFoundError`. */
  static from(status: number, body: unknown, headers: Headers): APIError {
    const ErrorClass =
      ERROR_BY_STATUS[status] ?? (status >= 500 ? STATUS_ERRORS[FALLBACK_SERVER_ERROR] : STATUS_ERRORS[FALLBACK_CLIENT_ERROR]);
    return new ErrorClass(status, body, headers);
  }
}

export class BadRequestError extends APIError {
  override name = 'BadRequestError';
}
export class AuthenticationError extends APIError {
  override name = 'AuthenticationError';
}
export class PermissionDeniedError extends APIError {
  override name = 'PermissionDeniedError';
}
export class NotFoundError extends APIError {
  override name = 'NotFoundError';
}
export class ConflictError extends APIError {
  override name = 'ConflictError';
  /** For `invalid_state`: the status the resource is in, which does not allow the request (e.g. `submitted`). */
  get currentState(): string | undefined {
    const body = this.body;
    return typeof body === 'object' && body !== null ? stringOr((body as Record<string, unknown>)['current_state']) : undefined;
  }
}
export class UnprocessableEntityError extends APIError {
  override name = 'UnprocessableEntityError';
}
export class RateLimitError extends APIError {
  override name = 'RateLimitError';
  /** Seconds to wait before the next request, from `Retry-After`. */
  get retryAfter(): number | undefined {
    const seconds = Number(this.headers.get('retry-after'));
    return this.headers.has('retry-after') && Number.isFinite(seconds) ? seconds : undefined;
  }
}
export class InternalServerError extends APIError {
  override name = 'InternalServerError';
}

/** Every status error class by name; `satisfies` fails the build when codegen/surface.yaml names one that is missing. */
const STATUS_ERRORS = {
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  RateLimitError,
  InternalServerError,
} satisfies Record<(typeof ERROR_NAMES)[keyof typeof ERROR_NAMES], typeof APIError>;

/** The class per status (codegen/surface.yaml: the Python SDK raises the same names). */
const ERROR_BY_STATUS: Record<number, typeof APIError> = Object.fromEntries(
  Object.entries(ERROR_NAMES).map(([status, name]) => [Number(status), STATUS_ERRORS[name]]),
);

export class APIConnectionError extends OGRecordsError {
  override name = 'APIConnectionError';
  constructor(message = 'Connection error.', options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class APIConnectionTimeoutError extends APIConnectionError {
  override name = 'APIConnectionTimeoutError';
  constructor(options?: { cause?: unknown }) {
    super('Request timed out.', options);
  }
}

export class WebhookVerificationError extends OGRecordsError {
  override name = 'WebhookVerificationError';
}

function readProblem(body: unknown): { code: string; detail: string | undefined; errors: FieldError[]; requestId: string | undefined } {
  if (typeof body !== 'object' || body === null) {
    return { code: 'unknown', detail: typeof body === 'string' && body ? body : undefined, errors: [], requestId: undefined };
  }
  const record = body as Record<string, unknown>;
  // Problem documents carry `code`; OAuth endpoints answer RFC 6749 `{error, error_description}` instead.
  const code = stringOr(record['code']) ?? stringOr(record['error']) ?? 'unknown';
  const detail = stringOr(record['detail']) ?? stringOr(record['error_description']) ?? stringOr(record['title']);
  const errors = Array.isArray(record['errors']) ? (record['errors'] as FieldError[]) : [];
  return { code, detail, errors, requestId: stringOr(record['request_id']) };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

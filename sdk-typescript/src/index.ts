// The public surface of @og/api-sdk. Generated code lives in ./generated (rewritten by `nox -s codegen`);
// everything handwritten lives in ./lib.
export { OGRecords, OGRecords as default } from './lib/client.js';
export { APIResponse } from './lib/core.js';
export type { WithRawResponse } from './lib/resources/resource.js';
export type { ClientOptions, RequestOptions } from './lib/core.js';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  OGRecordsError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  WebhookVerificationError,
} from './lib/errors.js';
export { Page, PagePromise, type ListResponse } from './lib/pagination.js';
export { sign as signWebhook, unwrap as unwrapWebhook, verify as verifyWebhook } from './lib/webhooks.js';
export type { VerifyOptions, WebhookEvent, WebhookHeaders } from './lib/webhooks.js';
export { createPkcePair, pkceChallenge, type PkcePair } from './lib/pkce.js';
export type { AuthorizationRequest, CodeExchange, PendingAuthorization, TokenRefresh } from './lib/resources/oauth.js';
export { OPERATIONS } from './lib/operations.js';
export type * from './generated/types.gen.js';

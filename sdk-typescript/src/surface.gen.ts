// Generated from codegen/surface.yaml by codegen/surface.py. Do not edit: change surface.yaml and run
// `nox -s codegen`.

/** Where each operation of the API lives on the client: `operationId → "resource.method"`. */
export const OPERATIONS = {
  createRelease: 'releases.create',
  listReleases: 'releases.list',
  getRelease: 'releases.get',
  updateReleaseDetails: 'releases.updateDetails',
  updateReleaseTracks: 'releases.updateTracks',
  updateReleaseArtwork: 'releases.updateArtwork',
  updateReleaseDistribution: 'releases.updateDistribution',
  submitRelease: 'releases.submit',
  requestReleaseTakedown: 'releases.requestTakedown',
  deleteRelease: 'releases.delete',
  removeReleaseTrack: 'releases.removeTrack',
  createTrack: 'tracks.create',
  listTracks: 'tracks.list',
  getTrack: 'tracks.get',
  updateTrack: 'tracks.update',
  uploadTrackAudio: 'tracks.uploadAudio',
  getTrackQcStatus: 'tracks.getQcStatus',
  createSplit: 'splits.create',
  listSplits: 'splits.list',
  getSplit: 'splits.get',
  listReleaseSplits: 'splits.listForRelease',
  createPerson: 'persons.create',
  listPersons: 'persons.list',
  getPerson: 'persons.get',
  invitePerson: 'persons.invite',
  updatePerson: 'persons.update',
  deletePerson: 'persons.delete',
  listSandboxOutbox: 'sandbox.listOutbox',
  answerSplitShare: 'sandbox.answerSplitShare',
  getSandboxClock: 'sandbox.getClock',
  advanceSandboxClock: 'sandbox.advanceClock',
  advanceSandboxRelease: 'sandbox.advanceRelease',
  triggerSandboxEvent: 'sandbox.trigger',
  listEarnings: 'earnings.list',
  summarizeEarnings: 'earnings.summarize',
  getBalance: 'balance.get',
  listPayouts: 'payouts.list',
  requestPayout: 'payouts.request',
  getPayout: 'payouts.get',
  createSmartLink: 'smartLinks.create',
  listSmartLinks: 'smartLinks.list',
  getSmartLink: 'smartLinks.get',
  getSmartLinkStats: 'smartLinks.getStats',
  updateSmartLink: 'smartLinks.update',
  deleteSmartLink: 'smartLinks.delete',
  getPublicSmartLink: 'smartLinks.getPublic',
  followSmartLink: 'smartLinks.follow',
  listEvents: 'events.list',
  getEvent: 'events.get',
  resendEvent: 'events.resend',
  createWebhookEndpoint: 'webhookEndpoints.create',
  listWebhookEndpoints: 'webhookEndpoints.list',
  getWebhookEndpoint: 'webhookEndpoints.get',
  updateWebhookEndpoint: 'webhookEndpoints.update',
  deleteWebhookEndpoint: 'webhookEndpoints.delete',
  rotateWebhookEndpointSecret: 'webhookEndpoints.rotateSecret',
  listWebhookAttempts: 'webhookEndpoints.listAttempts',
  sendTestWebhook: 'webhookEndpoints.sendTest',
  recoverWebhookEvents: 'webhookEndpoints.recoverEvents',
  createApiKey: 'apiKeys.create',
  listApiKeys: 'apiKeys.list',
  getApiKey: 'apiKeys.get',
  rotateApiKey: 'apiKeys.rotate',
  revokeApiKey: 'apiKeys.revoke',
  authorizeOauth: 'oauth.authorize',
  submitOauthConsent: 'oauth.submitConsent',
  createOauthToken: 'oauth.token',
  revokeOauthToken: 'oauth.revoke',
  introspectOauthToken: 'oauth.introspect',
  getOauthMetadata: 'oauth.metadata',
  receiveStripeWebhook: 'inboundWebhooks.stripe',
  receiveWiseWebhook: 'inboundWebhooks.wise',
  receiveDspSyncWebhook: 'inboundWebhooks.dspSync',
  receiveMailgunWebhook: 'inboundWebhooks.mailgun',
  receiveWhapiWebhook: 'inboundWebhooks.whapi',
  getHealth: 'system.health',
  getReadiness: 'system.readiness',
} as const;

/** The error class thrown for each HTTP status (others: `FALLBACK_CLIENT_ERROR`, `FALLBACK_SERVER_ERROR`). */
export const ERROR_NAMES = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  409: 'ConflictError',
  422: 'UnprocessableEntityError',
  429: 'RateLimitError',
  500: 'InternalServerError',
} as const;

export const FALLBACK_CLIENT_ERROR = 'BadRequestError';
export const FALLBACK_SERVER_ERROR = 'InternalServerError';

/** Environment variables read when the client is built without the setting. */
export const ENVIRONMENT = {
  apiKey: 'OG_RECORDS_API_KEY',
  baseUrl: 'OG_RECORDS_BASE_URL',
  webhookSecret: 'OG_RECORDS_WEBHOOK_SECRET',
} as const;

/** Names read before 0.2 (after the ones above), with a one-time deprecation warning. */
export const DEPRECATED_ENVIRONMENT = {
  apiKey: 'OG_API_KEY',
  baseUrl: 'OG_BASE_URL',
} as const;

export const DEFAULT_BASE_URL = 'https://api.og-records.com';
export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_TIMEOUT_MS = 60000;

import type * as generated from '../generated/sdk.gen.js';
import type { OGRecords } from './client.js';

type MethodPath = {
  [Namespace in keyof OGRecords]: OGRecords[Namespace] extends object
    ? `${Namespace}.${Extract<keyof OGRecords[Namespace], string>}`
    : never;
}[keyof OGRecords];

/**
 * Where each operation of the API lives on the client (`operationId → "namespace.method"`). The `satisfies` makes a
 * new operation in the spec a compile error until it has a method here, and a renamed method one too.
 */
export const OPERATIONS = {
  createRelease: 'releases.create',
  listReleases: 'releases.list',
  getRelease: 'releases.get',
  updateReleaseDetails: 'releases.updateDetails',
  updateReleaseTracks: 'releases.updateTracks',
  updateReleaseArtwork: 'releases.updateArtwork',
  updateReleaseDistribution: 'releases.updateDistribution',
  submitRelease: 'releases.submit',
  createTrack: 'tracks.create',
  listTracks: 'tracks.list',
  getTrack: 'tracks.get',
  updateTrack: 'tracks.update',
  uploadTrackAudio: 'tracks.uploadAudio',
  getTrackQcStatus: 'tracks.qcStatus',
  createSplit: 'splits.create',
  listSplits: 'splits.list',
  getSplit: 'splits.get',
  listReleaseSplits: 'splits.listForRelease',
  createPerson: 'persons.create',
  listPersons: 'persons.list',
  getPerson: 'persons.get',
  invitePerson: 'persons.invite',
  listSandboxOutbox: 'sandbox.listOutbox',
  answerSplitShare: 'sandbox.answerSplitShare',
  listEarnings: 'earnings.list',
  summarizeEarnings: 'earnings.summarize',
  getBalance: 'balance.get',
  listPayouts: 'payouts.list',
  requestPayout: 'payouts.request',
  getPayout: 'payouts.get',
  createSmartLink: 'smartLinks.create',
  listSmartLinks: 'smartLinks.list',
  getSmartLink: 'smartLinks.get',
  getSmartLinkStats: 'smartLinks.stats',
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
  recoverWebhookEvents: 'webhookEndpoints.recover',
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

} as const satisfies Record<keyof typeof generated, MethodPath>;

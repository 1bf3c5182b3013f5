import * as api from '../../generated/sdk.gen.js';
import type {
  ListWebhookAttemptsData,
  ListWebhookEndpointsData,
  RecoverWebhookEventsResponse,
  RotateWebhookEndpointSecretResponse,
  SendTestWebhookResponse,
  WebhookAttempt,
  WebhookEndpoint,
  WebhookEndpointCreate,
  WebhookEndpointUpdate,
  WebhookEndpointWithSecret,
  WebhookRecovery,
  WebhookSecretRotation,
} from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Your endpoints that receive signed events; verify them with `client.webhooks.unwrap`. */
export class WebhookEndpoints extends APIResource {
  /** Creates an endpoint. The response carries the signing `secret`, shown this once. */
  create(body: WebhookEndpointCreate, options?: RequestOptions): Promise<WebhookEndpointWithSecret> {
    return this._transport.call((call) => api.createWebhookEndpoint({ ...call, body }), options);
  }

  list(params: ListParams<ListWebhookEndpointsData> = {}, options?: RequestOptions): PagePromise<WebhookEndpoint> {
    return this._transport.list<WebhookEndpoint>(
      (cursor, call) => api.listWebhookEndpoints({ ...call, query: withCursor(params, cursor) }),
      options,
    );
  }

  get(id: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this._transport.call((call) => api.getWebhookEndpoint({ ...call, path: { id } }), options);
  }

  update(id: string, body: WebhookEndpointUpdate, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this._transport.call((call) => api.updateWebhookEndpoint({ ...call, path: { id }, body }), options);
  }

  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this._transport.call((call) => api.deleteWebhookEndpoint({ ...call, path: { id } }), options);
  }

  /** Issues a new signing secret; the old one keeps signing alongside it for the grace period you choose. */
  rotateSecret(id: string, body: WebhookSecretRotation = {}, options?: RequestOptions): Promise<RotateWebhookEndpointSecretResponse> {
    return this._transport.call((call) => api.rotateWebhookEndpointSecret({ ...call, path: { id }, body }), options);
  }

  /** The delivery log: one entry per attempt. */
  listAttempts(id: string, params: ListParams<ListWebhookAttemptsData> = {}, options?: RequestOptions): PagePromise<WebhookAttempt> {
    return this._transport.list<WebhookAttempt>(
      (cursor, call) => api.listWebhookAttempts({ ...call, path: { id }, query: withCursor(params, cursor) }),
      options,
    );
  }

  /** Sends a `webhook.test` event to the endpoint now and reports how it answered. */
  sendTest(id: string, options?: RequestOptions): Promise<SendTestWebhookResponse> {
    return this._transport.call((call) => api.sendTestWebhook({ ...call, path: { id } }), options);
  }

  /** Redelivers the events of a time range that the endpoint missed. */
  recoverEvents(id: string, body: WebhookRecovery, options?: RequestOptions): Promise<RecoverWebhookEventsResponse> {
    return this._transport.call((call) => api.recoverWebhookEvents({ ...call, path: { id }, body }), options);
  }
}

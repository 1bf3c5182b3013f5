import * as api from '../../generated/sdk.gen.js';
import type {
  InboundWebhookReceipt,
  ReceiveDspSyncWebhookData,
  ReceiveMailgunWebhookData,
  ReceiveStripeWebhookData,
  ReceiveWhapiWebhookData,
  ReceiveWiseWebhookData,
} from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import { APIResource } from './resource.js';

/**
 * The endpoints that payment, email, messaging and distribution providers call. Integrators do not need them; they
 * are here for provider-side test tooling. Each takes the provider's payload and signature headers.
 */
export class InboundWebhooks extends APIResource {
  stripe(body: ReceiveStripeWebhookData['body'], headers: ReceiveStripeWebhookData['headers'], options?: RequestOptions): Promise<InboundWebhookReceipt> {
    return this._transport.call((call) => api.receiveStripeWebhook({ ...call, body, headers: { ...call.headers, ...headers } }), options);
  }

  wise(body: ReceiveWiseWebhookData['body'], headers: ReceiveWiseWebhookData['headers'], options?: RequestOptions): Promise<InboundWebhookReceipt> {
    return this._transport.call((call) => api.receiveWiseWebhook({ ...call, body, headers: { ...call.headers, ...headers } }), options);
  }

  dspSync(body: ReceiveDspSyncWebhookData['body'], headers: ReceiveDspSyncWebhookData['headers'], options?: RequestOptions): Promise<InboundWebhookReceipt> {
    return this._transport.call((call) => api.receiveDspSyncWebhook({ ...call, body, headers: { ...call.headers, ...headers } }), options);
  }

  mailgun(body: ReceiveMailgunWebhookData['body'], options?: RequestOptions): Promise<InboundWebhookReceipt> {
    return this._transport.call((call) => api.receiveMailgunWebhook({ ...call, body }), options);
  }

  whapi(body: ReceiveWhapiWebhookData['body'], headers: ReceiveWhapiWebhookData['headers'], options?: RequestOptions): Promise<InboundWebhookReceipt> {
    return this._transport.call((call) => api.receiveWhapiWebhook({ ...call, body, headers: { ...call.headers, ...headers } }), options);
  }
}

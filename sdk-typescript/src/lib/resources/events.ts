import * as api from '../../generated/sdk.gen.js';
import type { EventEnvelope, EventResend, ListEventsData, ResendEventResponse } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** The event log (30 days): the pull alternative to webhooks, and resending. */
export class Events extends APIResource {
  list(params: ListParams<ListEventsData> = {}, options?: RequestOptions): PagePromise<EventEnvelope> {
    return this._transport.list<EventEnvelope>((cursor, call) => api.listEvents({ ...call, query: withCursor(params, cursor) }), options);
  }

  get(id: string, options?: RequestOptions): Promise<EventEnvelope> {
    return this._transport.call((call) => api.getEvent({ ...call, path: { id } }), options);
  }

  /** Delivers the event again, to every subscribed endpoint or to one (`endpoint_id`). */
  resend(id: string, body: EventResend = {}, options?: RequestOptions): Promise<ResendEventResponse> {
    return this._transport.call((call) => api.resendEvent({ ...call, path: { id }, body }), options);
  }
}

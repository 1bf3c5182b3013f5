import * as api from '../../generated/sdk.gen.js';
import type { Balance, ListPayoutsData, Payout, PayoutRequest } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Payouts of the account's balance. */
export class Payouts extends APIResource {
  /**
   * Requests a payout. The API requires an `Idempotency-Key` here: pass `options.idempotencyKey` to make the request
   * safe to repeat across your own restarts; otherwise one is generated and kept across this call's retries.
   */
  request(body: PayoutRequest, options?: RequestOptions): Promise<Payout> {
    const idempotencyKey = options?.idempotencyKey ?? crypto.randomUUID();
    return this._transport.call(
      (call) => api.requestPayout({ ...call, body, headers: { ...call.headers, 'Idempotency-Key': idempotencyKey } }),
      options,
    );
  }

  list(params: ListParams<ListPayoutsData> = {}, options?: RequestOptions): PagePromise<Payout> {
    return this._transport.list<Payout>((cursor, call) => api.listPayouts({ ...call, query: withCursor(params, cursor) }), options);
  }

  get(id: string, options?: RequestOptions): Promise<Payout> {
    return this._transport.call((call) => api.getPayout({ ...call, path: { id } }), options);
  }
}

/** The account's balance: what is available for a payout and what is still pending. */
export class BalanceResource extends APIResource {
  get(options?: RequestOptions): Promise<Balance> {
    return this._transport.call((call) => api.getBalance({ ...call }), options);
  }
}

import * as api from '../../generated/sdk.gen.js';
import type { EarningsLine, EarningsSummary, ListEarningsData, SummarizeEarningsData } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Earnings lines reported by the stores, and their sums. */
export class Earnings extends APIResource {
  list(params: ListParams<ListEarningsData> = {}, options?: RequestOptions): PagePromise<EarningsLine> {
    return this._transport.list<EarningsLine>((cursor, call) => api.listEarnings({ ...call, query: withCursor(params, cursor) }), options);
  }

  /** Sums per release, track, period, store or territory (`group_by`). */
  summarize(params: NonNullable<SummarizeEarningsData['query']> = {}, options?: RequestOptions): Promise<EarningsSummary> {
    return this._transport.call((call) => api.summarizeEarnings({ ...call, query: params }), options);
  }
}

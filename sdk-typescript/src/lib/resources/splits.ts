import * as api from '../../generated/sdk.gen.js';
import type { ListReleaseSplitsData, ListSplitsData, Split, SplitCreate } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Royalty splits of a release or a track. */
export class Splits extends APIResource {
  create(body: SplitCreate, options?: RequestOptions): Promise<Split> {
    return this._transport.call((call) => api.createSplit({ ...call, body }), options);
  }

  list(params: ListParams<ListSplitsData> = {}, options?: RequestOptions): PagePromise<Split> {
    return this._transport.list<Split>((cursor, call) => api.listSplits({ ...call, query: withCursor(params, cursor) }), options);
  }

  get(id: string, options?: RequestOptions): Promise<Split> {
    return this._transport.call((call) => api.getSplit({ ...call, path: { id } }), options);
  }

  /** The splits of one release and of its tracks. */
  listForRelease(releaseId: string, params: ListParams<ListReleaseSplitsData> = {}, options?: RequestOptions): PagePromise<Split> {
    return this._transport.list<Split>(
      (cursor, call) => api.listReleaseSplits({ ...call, path: { releaseId }, query: withCursor(params, cursor) }),
      options,
    );
  }
}

import * as api from '../../generated/sdk.gen.js';
import type {
  FollowSmartLinkData,
  GetSmartLinkStatsData,
  ListSmartLinksData,
  PublicSmartLink,
  SmartLink,
  SmartLinkCreate,
  SmartLinkStats,
  SmartLinkUpdate,
} from '../../generated/types.gen.js';
import { OGRecordsError } from '../errors.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Smart links: one public page per release that sends fans to every store. */
export class SmartLinks extends APIResource {
  create(body: SmartLinkCreate, options?: RequestOptions): Promise<SmartLink> {
    return this._transport.call((call) => api.createSmartLink({ ...call, body }), options);
  }

  list(params: ListParams<ListSmartLinksData> = {}, options?: RequestOptions): PagePromise<SmartLink> {
    return this._transport.list<SmartLink>((cursor, call) => api.listSmartLinks({ ...call, query: withCursor(params, cursor) }), options);
  }

  /** A smart link with its settings, by id. */
  get(id: string, options?: RequestOptions): Promise<SmartLink> {
    return this._transport.call((call) => api.getSmartLink({ ...call, path: { id } }), options);
  }

  /** Changes a smart link's settings; `status: 'disabled'` switches its public page off (410), `'active'` on again. */
  update(id: string, body: SmartLinkUpdate, options?: RequestOptions): Promise<SmartLink> {
    return this._transport.call((call) => api.updateSmartLink({ ...call, path: { id }, body }), options);
  }

  /** Deletes a smart link and its statistics; its slug becomes free. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this._transport.call((call) => api.deleteSmartLink({ ...call, path: { id } }), options);
  }

  getStats(id: string, params: NonNullable<GetSmartLinkStatsData['query']> = {}, options?: RequestOptions): Promise<SmartLinkStats> {
    return this._transport.call((call) => api.getSmartLinkStats({ ...call, path: { id }, query: params }), options);
  }

  /** The public view fans see, by slug (no credential needed). */
  getPublic(slug: string, options?: RequestOptions): Promise<PublicSmartLink> {
    return this._transport.call((call) => api.getPublicSmartLink({ ...call, path: { slug } }), options);
  }

  /**
   * Counts a click on a store button and returns the store URL the API redirects to. Server-side only: browsers hide
   * the `Location` of a redirect from scripts.
   */
  async follow(slug: string, service: FollowSmartLinkData['path']['service'], options?: RequestOptions): Promise<string> {
    const response = await this._transport.raw((call) => api.followSmartLink({ ...call, path: { slug, service } }), options);
    // A 302 is not `ok`, so the generated client may already have read the (empty) body as an error text.
    if (!response.bodyUsed) await response.body?.cancel();
    const location = response.headers.get('location');
    if (location === null) throw new OGRecordsError(`Expected a redirect, got ${response.status}.`);
    return location;
  }
}

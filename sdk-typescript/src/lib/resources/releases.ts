import * as api from '../../generated/sdk.gen.js';
import type {
  ListReleasesData,
  Release,
  ReleaseCreate,
  ReleaseDetailsUpdate,
  ReleaseDistributionUpdate,
  ReleaseTracksUpdate,
} from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Releases and the release wizard: create a draft, complete each step, submit. */
export class Releases extends APIResource {
  /** Creates a release draft (wizard step 1). */
  create(body: ReleaseCreate, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.createRelease({ ...call, body }), options);
  }

  list(params: ListParams<ListReleasesData> = {}, options?: RequestOptions): PagePromise<Release> {
    return this._transport.list<Release>((cursor, call) => api.listReleases({ ...call, query: withCursor(params, cursor) }), options);
  }

  get(id: string, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.getRelease({ ...call, path: { id } }), options);
  }

  /** Wizard step 2: genre, language, label, copyright lines, dates. */
  updateDetails(id: string, body: ReleaseDetailsUpdate, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.updateReleaseDetails({ ...call, path: { id }, body }), options);
  }

  /** Wizard step 3: the tracks and their order. */
  updateTracks(id: string, body: ReleaseTracksUpdate, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.updateReleaseTracks({ ...call, path: { id }, body }), options);
  }

  /** Wizard step 4: uploads the cover art (JPEG or PNG) and starts its quality control. */
  updateArtwork(id: string, artwork: Blob, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.updateReleaseArtwork({ ...call, path: { id }, body: { artwork } }), options);
  }

  /** Wizard step 5: stores, territories, price tier. */
  updateDistribution(id: string, body: ReleaseDistributionUpdate, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.updateReleaseDistribution({ ...call, path: { id }, body }), options);
  }

  /** Submits a complete draft for review. */
  submit(id: string, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.submitRelease({ ...call, path: { id } }), options);
  }

  /** Asks for a live or delivering release to be removed from every store (`takedown_requested`, then `taken_down`). */
  requestTakedown(id: string, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.requestReleaseTakedown({ ...call, path: { id } }), options);
  }

  /** Deletes a draft release (its tracks are kept, on no release). */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this._transport.call((call) => api.deleteRelease({ ...call, path: { id } }), options);
  }

  /** Takes a track off a draft's tracklist and renumbers the rest; returns the release. */
  removeTrack(id: string, trackId: string, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.removeReleaseTrack({ ...call, path: { id, trackId } }), options);
  }
}

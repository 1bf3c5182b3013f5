import * as api from '../../generated/sdk.gen.js';
import type { ListTracksData, Track, TrackCreate, TrackQcStatus, TrackUpdate } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Tracks, their audio and its quality control. */
export class Tracks extends APIResource {
  create(body: TrackCreate, options?: RequestOptions): Promise<Track> {
    return this._transport.call((call) => api.createTrack({ ...call, body }), options);
  }

  list(params: ListParams<ListTracksData> = {}, options?: RequestOptions): PagePromise<Track> {
    return this._transport.list<Track>((cursor, call) => api.listTracks({ ...call, query: withCursor(params, cursor) }), options);
  }

  get(id: string, options?: RequestOptions): Promise<Track> {
    return this._transport.call((call) => api.getTrack({ ...call, path: { id } }), options);
  }

  update(id: string, body: TrackUpdate, options?: RequestOptions): Promise<Track> {
    return this._transport.call((call) => api.updateTrack({ ...call, path: { id }, body }), options);
  }

  /** Uploads (or replaces) the track's audio file and starts its quality control. */
  uploadAudio(id: string, audio: Blob, options?: RequestOptions): Promise<Track> {
    return this._transport.call((call) => api.uploadTrackAudio({ ...call, path: { id }, body: { audio } }), options);
  }

  getQcStatus(id: string, options?: RequestOptions): Promise<TrackQcStatus> {
    return this._transport.call((call) => api.getTrackQcStatus({ ...call, path: { id } }), options);
  }
}

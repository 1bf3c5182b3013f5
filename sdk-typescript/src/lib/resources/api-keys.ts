import * as api from '../../generated/sdk.gen.js';
import type { ApiKey, ApiKeyCreate, ApiKeyRotation, ApiKeyWithSecret, ListApiKeysData, RotateApiKeyResponse } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** API keys of the account. Secrets are returned once, at creation and rotation. */
export class ApiKeys extends APIResource {
  create(body: ApiKeyCreate, options?: RequestOptions): Promise<ApiKeyWithSecret> {
    return this._transport.call((call) => api.createApiKey({ ...call, body }), options);
  }

  list(params: ListParams<ListApiKeysData> = {}, options?: RequestOptions): PagePromise<ApiKey> {
    return this._transport.list<ApiKey>((cursor, call) => api.listApiKeys({ ...call, query: withCursor(params, cursor) }), options);
  }

  get(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this._transport.call((call) => api.getApiKey({ ...call, path: { id } }), options);
  }

  /** Issues a new secret; the old one stays valid for the grace period (7 days by default). */
  rotate(id: string, body: ApiKeyRotation = {}, options?: RequestOptions): Promise<RotateApiKeyResponse> {
    return this._transport.call((call) => api.rotateApiKey({ ...call, path: { id }, body }), options);
  }

  revoke(id: string, options?: RequestOptions): Promise<ApiKey> {
    return this._transport.call((call) => api.revokeApiKey({ ...call, path: { id } }), options);
  }
}

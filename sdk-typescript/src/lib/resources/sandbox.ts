import * as api from '../../generated/sdk.gen.js';
import type { ListSandboxOutboxData, OutboxMessage, Split, SplitShareAnswer } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Sandbox-only tools (production credentials get `403 sandbox_only`). */
export class Sandbox extends APIResource {
  /** Every message the sandbox did not send (invitations, owner notices), newest first, with the invitation link. */
  listOutbox(params: ListParams<ListSandboxOutboxData> = {}, options?: RequestOptions): PagePromise<OutboxMessage> {
    return this._transport.list<OutboxMessage>(
      (cursor, call) => api.listSandboxOutbox({ ...call, query: withCursor(params, cursor) }),
      options,
    );
  }

  /** Accepts or declines a payee's share of a split, as the payee would on the invitation page. */
  answerSplitShare(splitId: string, body: SplitShareAnswer, options?: RequestOptions): Promise<Split> {
    return this._transport.call((call) => api.answerSplitShare({ ...call, path: { id: splitId }, body }), options);
  }
}

import * as api from '../../generated/sdk.gen.js';
import type {
  ListSandboxOutboxData,
  OutboxMessage,
  Release,
  SandboxClock,
  SandboxClockAdvance,
  SandboxReleaseAdvance,
  SandboxTrigger,
  SandboxTriggerResult,
  Split,
  SplitShareAnswer,
} from '../../generated/types.gen.js';
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

  /** The account's sandbox clock. */
  getClock(options?: RequestOptions): Promise<SandboxClock> {
    return this._transport.call((call) => api.getSandboxClock({ ...call }), options);
  }

  /** Moves the sandbox clock forward; everything due in between (review, delivery, sales, retries) happens first. */
  advanceClock(body: SandboxClockAdvance, options?: RequestOptions): Promise<SandboxClock> {
    return this._transport.call((call) => api.advanceSandboxClock({ ...call, body }), options);
  }

  /** Moves a submitted sandbox release to `to` at once, through every status in between. */
  advanceRelease(id: string, body: SandboxReleaseAdvance, options?: RequestOptions): Promise<Release> {
    return this._transport.call((call) => api.advanceSandboxRelease({ ...call, path: { id }, body }), options);
  }

  /** Makes the change behind a webhook event happen, so the real event is sent. */
  trigger(body: SandboxTrigger, options?: RequestOptions): Promise<SandboxTriggerResult> {
    return this._transport.call((call) => api.triggerSandboxEvent({ ...call, body }), options);
  }
}

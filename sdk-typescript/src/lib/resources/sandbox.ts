import * as api from '../../generated/sdk.gen.js';
import type {
  Release,
  SandboxClock,
  SandboxClockAdvance,
  SandboxReleaseAdvance,
  SandboxTrigger,
  SandboxTriggerResult,
} from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import { APIResource } from './resource.js';

/** Sandbox-only tools: the test clock, a release's simulated journey, triggers (production keys get `403 sandbox_only`). */
export class Sandbox extends APIResource {
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

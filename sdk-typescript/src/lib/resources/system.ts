import * as api from '../../generated/sdk.gen.js';
import type { HealthStatus, ReadinessStatus } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import { APIResource } from './resource.js';

/** Health probes (no credential needed). */
export class System extends APIResource {
  /** Liveness: the process answers. */
  health(options?: RequestOptions): Promise<HealthStatus> {
    return this._transport.call((call) => api.getHealth({ ...call }), options);
  }

  /** Readiness: the database and other dependencies answer (a `503` throws `InternalServerError`). */
  readiness(options?: RequestOptions): Promise<ReadinessStatus> {
    return this._transport.call((call) => api.getReadiness({ ...call }), options);
  }
}

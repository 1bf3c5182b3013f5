import type { Transport } from '../core.js';

export abstract class APIResource {
  protected readonly _transport: Transport;

  constructor(transport: Transport) {
    this._transport = transport;
  }
}

/** A list operation's filters, without the `cursor` that pagination manages. */
export type ListParams<Data extends { query?: unknown }> = Omit<NonNullable<Data['query']>, 'cursor'>;

export function withCursor<Params extends object>(params: Params, cursor: string | undefined): Params & { cursor?: string } {
  return cursor === undefined ? params : { ...params, cursor };
}

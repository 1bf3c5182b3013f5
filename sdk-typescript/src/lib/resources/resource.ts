import { APIResponse, Transport } from '../core.js';

/** A resource's methods, each resolving to an `APIResponse` (status, headers, request id, parsed body). */
export type WithRawResponse<Resource> = {
  [Method in Exclude<keyof Resource, 'withRawResponse'> as Resource[Method] extends (...args: never[]) => PromiseLike<unknown> ? Method : never]: Resource[Method] extends (
    ...args: infer Args
  ) => PromiseLike<infer Result>
    ? (...args: Args) => Promise<APIResponse<Result>>
    : never;
};

export abstract class APIResource {
  protected readonly _transport: Transport;

  constructor(transport: Transport) {
    this._transport = transport;
  }

  /**
   * The same methods, resolving to an `APIResponse`: `await client.persons.withRawResponse.create({...})` →
   * `.statusCode`, `.headers`, `.requestId`, `.parse()`.
   */
  get withRawResponse(): WithRawResponse<this> {
    const transport = this._transport;
    const Resource = this.constructor as new (transport: Transport) => this;
    return new Proxy({} as WithRawResponse<this>, {
      get: (_target, method: string) => {
        return async (...args: unknown[]) => {
          // A resource of its own per call, whose transport reports the response of the call's first request.
          let first: Response | undefined;
          const observed = new Resource(new Transport(transport.options, (response) => (first ??= response)));
          const call = (observed as unknown as Record<string, (...args: unknown[]) => PromiseLike<unknown>>)[method];
          if (typeof call !== 'function') throw new TypeError(`${Resource.name} has no method ${method}`);
          const data = await call.apply(observed, args);
          return new APIResponse(first as Response, data);
        };
      },
    });
  }
}
/** A list operation's filters, without the `cursor` that pagination manages. */
export type ListParams<Data extends { query?: unknown }> = Omit<NonNullable<Data['query']>, 'cursor'>;

export function withCursor<Params extends object>(params: Params, cursor: string | undefined): Params & { cursor?: string } {
  return cursor === undefined ? params : { ...params, cursor };
}

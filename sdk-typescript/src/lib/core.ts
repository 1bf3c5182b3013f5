import { type Client, createClient } from '../generated/client/index.js';
import { APIConnectionError, APIError, OGRecordsError } from './errors.js';
import { type ListResponse, PagePromise } from './pagination.js';
import { retryingFetch } from './retry.js';

export interface ClientOptions {
  /** An API key (`og_test_…` / `og_live_…`) or an OAuth access token. Defaults to the `OG_API_KEY` environment variable where there is one. */
  apiKey?: string | undefined;
  /** Defaults to `OG_BASE_URL`, else `https://api.og-records.com`. */
  baseUrl?: string | undefined;
  /** Retries after a failed try (408, 409, 429, 5xx, network errors). Default 2. */
  maxRetries?: number | undefined;
  /** Milliseconds one try may take. Default 60 000. */
  timeout?: number | undefined;
  /** A `fetch` implementation to use instead of the global one (for proxies, instrumentation, tests). */
  fetch?: typeof fetch | undefined;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string> | undefined;
}

/** Per-call settings; each overrides the client's. */
export interface RequestOptions {
  maxRetries?: number | undefined;
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
  /** For mutating calls: the `Idempotency-Key` to send (one is generated otherwise, and kept across retries). */
  idempotencyKey?: string | undefined;
}

/** What a generated operation function takes besides its own parameters. */
export interface CallOptions {
  client: Client;
  fetch: typeof fetch;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/** What a generated operation function resolves to (its "fields" response style, never throwing). */
export type CallResult<T> = ({ data: T; error: undefined } | { data: undefined; error: unknown }) & {
  request?: Request;
  response?: Response;
};

/** The body type of a generated operation's success, from its result type. */
export type SuccessData<Result> = Exclude<Result extends { data: infer Data } ? Data : never, undefined>;

export const DEFAULT_BASE_URL = 'https://api.og-records.com';
const DEFAULT_MAX_RETRIES = 2;
const DEFAULT_TIMEOUT_MS = 60_000;

/** Sends requests for the resource namespaces: retries, authentication, errors, pagination. */
export class Transport {
  readonly baseUrl: string;
  readonly #http: Client;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #timeout: number;
  readonly #defaultHeaders: Record<string, string>;

  constructor(options: ClientOptions) {
    const apiKey = options.apiKey ?? readEnv('OG_API_KEY');
    this.baseUrl = (options.baseUrl ?? readEnv('OG_BASE_URL') ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.#timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.#defaultHeaders = options.defaultHeaders ?? {};
    if (!Number.isInteger(this.#maxRetries) || this.#maxRetries < 0) throw new OGRecordsError('maxRetries must be a whole number ≥ 0.');
    this.#http = createClient({ baseUrl: this.baseUrl, auth: () => apiKey });
  }

  /** Runs one operation and returns its parsed success body; throws an `APIError` subclass otherwise. */
  async call<Result extends CallResult<unknown>>(invoke: (call: CallOptions) => Promise<Result>, options?: RequestOptions): Promise<SuccessData<Result>> {
    const result = await invoke(this.#callOptions(options));
    if (result.response === undefined) throw connectionError(result.error);
    if (!result.response.ok) throw APIError.from(result.response.status, result.error, result.response.headers);
    return result.data as SuccessData<Result>;
  }

  /** Runs an operation whose answer is a redirect and returns the raw response (status, `Location`, body). */
  async raw(invoke: (call: CallOptions & { redirect: 'manual'; parseAs: 'stream' }) => Promise<CallResult<unknown>>, options?: RequestOptions): Promise<Response> {
    const result = await invoke({ ...this.#callOptions(options), redirect: 'manual', parseAs: 'stream' });
    if (result.response === undefined) throw connectionError(result.error);
    if (result.response.status >= 400) throw APIError.from(result.response.status, result.error, result.response.headers);
    return result.response;
  }

  /** A list operation as a `PagePromise`: await it for the first page or iterate it across every page. */
  list<Item>(
    invoke: (cursor: string | undefined, call: CallOptions) => Promise<CallResult<ListResponse<Item>>>,
    options?: RequestOptions,
  ): PagePromise<Item> {
    return new PagePromise<Item>((cursor) => this.call((call) => invoke(cursor, call), options));
  }

  #callOptions(options: RequestOptions | undefined): CallOptions {
    const headers = { ...this.#defaultHeaders, ...options?.headers };
    if (options?.idempotencyKey !== undefined) headers['Idempotency-Key'] = options.idempotencyKey;
    const policy = { maxRetries: options?.maxRetries ?? this.#maxRetries, timeout: options?.timeout ?? this.#timeout };
    // The generated client calls `fetch(request)` with a single Request, which is all the retrying wrapper takes.
    const call: CallOptions = { client: this.#http, fetch: retryingFetch(this.#fetch, policy) as typeof fetch, headers };
    if (options?.signal !== undefined) call.signal = options.signal;
    return call;
  }
}

function connectionError(error: unknown): unknown {
  // A caller's abort stays an AbortError; anything else that left no response is a connection problem.
  if (error instanceof OGRecordsError || (error instanceof Error && error.name === 'AbortError')) return error;
  return new APIConnectionError(undefined, { cause: error });
}

/** Environment variables where the runtime has them (Node, Deno, Bun); browsers have none. */
function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name]?.trim();
  return value ? value : undefined;
}

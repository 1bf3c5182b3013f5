import { type Client, createClient } from '../generated/client/index.js';
import { APIConnectionError, APIError, OGRecordsError } from './errors.js';
import { type ListResponse, PagePromise } from './pagination.js';
import { retryingFetch } from './retry.js';
import { DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, DEPRECATED_ENVIRONMENT, ENVIRONMENT } from '../surface.gen.js';

export { DEFAULT_BASE_URL };

export interface ClientOptions {
  /** An API key (`og_test_…` / `og_live_…`) or an OAuth access token. Defaults to the `OG_RECORDS_API_KEY` environment variable where there is one. */
  apiKey?: string | undefined;
  /** Defaults to `OG_RECORDS_BASE_URL`, else `https://api.og-records.com`. */
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

/** Per-call settings; each overrides the client's (the Python SDK's `max_retries`, `timeout`, `extra_headers`, `idempotency_key`). */
export interface RequestOptions {
  maxRetries?: number | undefined;
  /** Milliseconds one try may take. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Headers added to this request. */
  extraHeaders?: Record<string, string> | undefined;
  /** @deprecated The 0.1 name of `extraHeaders`. */
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

/** What a `withRawResponse` method resolves to: the HTTP response and what the plain method resolves to. */
export class APIResponse<T> {
  readonly response: Response;
  readonly #data: T;

  constructor(response: Response, data: T) {
    this.response = response;
    this.#data = data;
  }

  get statusCode(): number {
    return this.response.status;
  }

  get headers(): Headers {
    return this.response.headers;
  }

  /** The `X-Request-Id` the API gave this request: quote it when you contact support. */
  get requestId(): string | undefined {
    return this.response.headers.get('x-request-id') ?? undefined;
  }

  /** The parsed body, as the plain method returns it. */
  parse(): T {
    return this.#data;
  }
}

/** Sends requests for the resource namespaces: retries, authentication, errors, pagination. */
export class Transport {
  readonly baseUrl: string;
  readonly options: ClientOptions;
  readonly #http: Client;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #timeout: number;
  readonly #defaultHeaders: Record<string, string>;
  readonly #onResponse: ((response: Response) => void) | undefined;

  constructor(options: ClientOptions, onResponse?: (response: Response) => void) {
    this.#onResponse = onResponse;
    this.options = options;
    const apiKey = options.apiKey ?? setting('apiKey');
    this.baseUrl = (options.baseUrl ?? setting('baseUrl') ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
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
    if (result.response.ok) this.#onResponse?.(result.response);
    if (!result.response.ok) throw APIError.from(result.response.status, result.error, result.response.headers);
    return result.data as SuccessData<Result>;
  }

  /** Runs an operation whose answer is a redirect and returns the raw response (status, `Location`, body). */
  async raw(invoke: (call: CallOptions & { redirect: 'manual'; parseAs: 'stream' }) => Promise<CallResult<unknown>>, options?: RequestOptions): Promise<Response> {
    const result = await invoke({ ...this.#callOptions(options), redirect: 'manual', parseAs: 'stream' });
    if (result.response === undefined) throw connectionError(result.error);
    if (result.response.status >= 400) throw APIError.from(result.response.status, result.error, result.response.headers);
    this.#onResponse?.(result.response);
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
    const headers = { ...this.#defaultHeaders, ...options?.headers, ...options?.extraHeaders };
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

const warned = new Set<string>();

/** A setting from the environment: its name in codegen/surface.yaml, else its 0.1 name (with a one-time warning). */
function setting(key: keyof typeof ENVIRONMENT & keyof typeof DEPRECATED_ENVIRONMENT): string | undefined {
  const value = readEnv(ENVIRONMENT[key]);
  if (value !== undefined) return value;
  const old = readEnv(DEPRECATED_ENVIRONMENT[key]);
  if (old !== undefined && !warned.has(key)) {
    warned.add(key);
    console.warn(`@og/api-sdk: ${DEPRECATED_ENVIRONMENT[key]} is deprecated; set ${ENVIRONMENT[key]} instead.`);
  }
  return old;
}

/** Environment variables where the runtime has them (Node, Deno, Bun); browsers have none. */
function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name]?.trim();
  return value ? value : undefined;
}

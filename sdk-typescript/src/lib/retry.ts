import { APIConnectionError, APIConnectionTimeoutError } from './errors.js';

export interface RetryPolicy {
  /** Retries after the first try (so `2` means up to three tries). */
  maxRetries: number;
  /** Milliseconds one try may take before it is abandoned (and retried). */
  timeout: number;
}

const RETRYABLE_STATUSES = new Set([408, 409, 429]);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
/** A `Retry-After` longer than this is not waited out: the caller gets the error and decides. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Wraps `fetch` so that one call makes up to `maxRetries + 1` tries: on 408, 409, 429, 5xx and network errors,
 * waiting `Retry-After` when the server says so and exponential backoff with jitter otherwise. A mutating request
 * gets one `Idempotency-Key` (unless the caller set one) that every try repeats, so the server runs it at most once.
 */
export function retryingFetch(fetchImpl: typeof fetch, policy: RetryPolicy): (request: Request) => Promise<Response> {
  return async (request: Request) => {
    let headers = request.headers;
    if (!SAFE_METHODS.has(request.method) && !headers.has('idempotency-key')) {
      headers = new Headers(headers);
      headers.set('Idempotency-Key', crypto.randomUUID());
    }
    // Every try sends the same bytes. Building each try from a plain init (not `clone()` + `new Request`) matters:
    // each Request costs an AbortSignal, which dominated the SDK's overhead per call.
    const body = request.body === null ? null : await request.arrayBuffer();
    const init: RequestInit = { method: request.method, headers, body, redirect: request.redirect };
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = policy.maxRetries - attempt;
      let response: Response;
      try {
        response = await fetchWithTimeout(fetchImpl, request.url, init, request.signal, policy.timeout);
      } catch (error) {
        if (request.signal.aborted) throw error; // the caller cancelled: never retry
        if (retriesLeft <= 0) {
          throw error instanceof APIConnectionTimeoutError ? error : new APIConnectionError(undefined, { cause: error });
        }
        await sleep(backoffDelay(attempt), request.signal);
        continue;
      }
      if (retriesLeft <= 0 || !shouldRetry(response)) return response;
      const delay = retryAfterDelay(response.headers) ?? backoffDelay(attempt);
      await response.body?.cancel();
      await sleep(delay, request.signal);
    }
  };
}

function shouldRetry(response: Response): boolean {
  // 501 means the operation does not exist (yet) on this server: asking again will not change that.
  return RETRYABLE_STATUSES.has(response.status) || (response.status >= 500 && response.status !== 501);
}

/** `min(0.5 s · 2^attempt, 8 s)`, minus up to 25 % jitter so that many clients do not retry in lockstep. */
export function backoffDelay(attempt: number): number {
  const delay = Math.min(INITIAL_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return delay * (1 - Math.random() * 0.25);
}

/** The wait the server asks for, from `retry-after-ms` or `Retry-After` (seconds or an HTTP date). */
export function retryAfterDelay(headers: Headers): number | undefined {
  let delay: number | undefined;
  const milliseconds = headers.get('retry-after-ms');
  const retryAfter = headers.get('retry-after');
  if (milliseconds !== null && Number.isFinite(Number(milliseconds))) {
    delay = Number(milliseconds);
  } else if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    delay = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
  }
  return delay !== undefined && delay >= 0 && delay <= MAX_RETRY_AFTER_MS ? delay : undefined;
}

async function fetchWithTimeout(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  callerSignal: AbortSignal,
  timeout: number,
): Promise<Response> {
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(), timeout);
  const onAbort = (): void => timer.abort(callerSignal.reason);
  callerSignal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fetchImpl(url, { ...init, signal: timer.signal });
  } catch (error) {
    if (timer.signal.aborted && !callerSignal.aborted) throw new APIConnectionTimeoutError({ cause: error });
    throw error;
  } finally {
    clearTimeout(handle);
    callerSignal.removeEventListener('abort', onAbort);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const handle = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(handle);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

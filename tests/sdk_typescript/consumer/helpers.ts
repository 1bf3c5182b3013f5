// Shared by the live tests: the server under test, its key, and a fetch that logs which operations ran.
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OGRecords, type ClientOptions } from '@og/api-sdk';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/sdk_typescript (pytest).`);
  return value;
}

export const baseUrl = (): string => required('OG_TEST_BASE_URL');
export const apiKey = (): string => required('OG_TEST_API_KEY');

/** Records every request that reached the real server, so pytest can check each implemented operation ran. */
export const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const log = process.env['OG_TEST_REQUEST_LOG'];
  if (log) {
    const request = input instanceof Request ? input : new Request(input, init);
    appendFileSync(log, `${JSON.stringify({ method: request.method, url: request.url, status: response.status })}\n`);
  }
  return response;
};

/** A client of the live server, with its requests logged. */
export function liveClient(options: ClientOptions = {}): OGRecords {
  return new OGRecords({ apiKey: apiKey(), baseUrl: baseUrl(), fetch: recordingFetch, ...options });
}

export interface StandIn {
  url: string;
  requests: IncomingMessage[];
  bodies: string[];
  close: () => Promise<void>;
}

/** A local HTTP server answering with `handler`, for what the real server cannot be made to do on demand. */
export async function standIn(handler: (request: IncomingMessage, response: ServerResponse, attempt: number) => void): Promise<StandIn> {
  const requests: IncomingMessage[] = [];
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push(request);
      bodies.push(body);
      handler(request, response, requests.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function problem(response: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/problem+json', 'X-Request-Id': `req_${code}`, ...headers });
  response.end(JSON.stringify({ type: `https://docs.og-records.com/errors/${code}`, title: code, status, code, request_id: `req_${code}` }));
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

/**
 * A client on an API key of its own (created through the SDK, every scope), for tests that make many requests: sandbox
 * rate limits are per key, so they cannot spend the budget the other test files (running in parallel) share.
 */
export async function ownKeyClient(name: string): Promise<OGRecords> {
  const key = await liveClient().apiKeys.create({
    name,
    scopes: ['releases:read', 'releases:write', 'tracks:read', 'tracks:write', 'persons:read', 'persons:write', 'events:read', 'webhooks:read', 'webhooks:write'],
  });
  return new OGRecords({ apiKey: key.secret, baseUrl: baseUrl(), fetch: recordingFetch });
}

/** Polls `read` until `done` holds (QC and webhook deliveries happen in the background, moments later). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not done after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

import type { Webhooks as WebhookRequests } from '../generated/types.gen.js';
import { WebhookVerificationError } from './errors.js';
import { base64Decode, base64Encode, utf8 } from './encoding.js';

/** Every event the API sends, discriminated by `type` (`if (event.type === 'release.submitted') …`). */
export type WebhookEvent = WebhookRequests['body'];
export type WebhookEventType = WebhookEvent['type'];

/** Request headers as `fetch` (`Headers`), Node's `IncomingMessage.headers` or a plain object give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** The endpoint's signing secret, `whsec_…` (shown once, when the endpoint is created or its secret rotated). */
  secret: string;
  /** Seconds a delivery's timestamp may differ from now, either way. Default 300. */
  tolerance?: number;
  /** The current time, for tests. */
  now?: Date;
}

const SECRET_PREFIX = 'whsec_';
const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Verifies a delivery's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`) over the
 * raw body and returns the parsed, typed event. Pass the body exactly as received (before any JSON parsing).
 * Throws `WebhookVerificationError` when the signature or the timestamp does not check out. Deliveries can repeat:
 * deduplicate on `event.id` (equal to `webhook-id`).
 */
export async function unwrap(body: string | Uint8Array, headers: WebhookHeaders, options: VerifyOptions): Promise<WebhookEvent> {
  await verify(body, headers, options);
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  return JSON.parse(text) as WebhookEvent;
}

/** Like `unwrap`, without parsing the body. */
export async function verify(body: string | Uint8Array, headers: WebhookHeaders, options: VerifyOptions): Promise<void> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header.');
  checkTimestamp(timestamp, options);

  const key = await signingKey(options.secret);
  const signed = signedContent(id, timestamp, body);
  // Several signatures arrive while a secret is rotated; any v1 one that matches is enough.
  for (const entry of signatures.split(' ')) {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || !signature) continue;
    let candidate: Uint8Array<ArrayBuffer>;
    try {
      candidate = base64Decode(signature);
    } catch {
      continue;
    }
    // HMAC verification in Web Crypto compares in constant time.
    if (await crypto.subtle.verify('HMAC', key, candidate, signed)) return;
  }
  throw new WebhookVerificationError('No matching signature found.');
}

/** Signs a payload as the API does: the `webhook-*` headers for it. For tests of your own webhook handler. */
export async function sign(
  body: string,
  options: { secret: string; id: string; timestamp?: Date },
): Promise<{ 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string }> {
  const timestamp = String(Math.floor((options.timestamp ?? new Date()).getTime() / 1000));
  const key = await signingKey(options.secret);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, signedContent(options.id, timestamp, body)));
  return { 'webhook-id': options.id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${base64Encode(mac)}` };
}

function checkTimestamp(timestamp: string, options: VerifyOptions): void {
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp header.');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE_SECONDS;
  const sent = Number(timestamp);
  if (now - sent > tolerance) throw new WebhookVerificationError('Message timestamp too old.');
  if (sent - now > tolerance) throw new WebhookVerificationError('Message timestamp too new.');
}

function signedContent(id: string, timestamp: string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = utf8.encode(`${id}.${timestamp}.`);
  const payload = typeof body === 'string' ? utf8.encode(body) : body;
  const content = new Uint8Array(prefix.length + payload.length);
  content.set(prefix);
  content.set(payload, prefix.length);
  return content;
}

async function signingKey(secret: string): Promise<CryptoKey> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = base64Decode(encoded);
  } catch {
    throw new WebhookVerificationError('The secret is not a whsec_ base64 secret.');
  }
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(' ') : value;
  }
  return undefined;
}

import { base64UrlEncode, utf8 } from './encoding.js';

/** A PKCE pair (RFC 7636): send the `challenge` with the authorization request, the `verifier` with the code exchange. */
export interface PkcePair {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** A fresh verifier from 32 random bytes (43 characters) and its S256 challenge. */
export async function createPkcePair(): Promise<PkcePair> {
  const verifier = randomToken(32);
  return { verifier, challenge: await pkceChallenge(verifier), method: 'S256' };
}

/** `base64url(sha256(verifier))`, without padding. */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64UrlEncode(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(verifier))));
}

/** An unguessable base64url token from `bytes` random bytes. */
export function randomToken(bytes: number): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

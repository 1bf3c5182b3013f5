import * as api from '../../generated/sdk.gen.js';
import type {
  AuthorizeOauthData,
  OAuthConsent,
  OAuthIntrospection,
  OAuthIntrospectRequest,
  OAuthMetadata,
  OAuthRevokeRequest,
  OAuthTokenRequest,
  OAuthTokenResponse,
} from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import { createPkcePair, randomToken } from '../pkce.js';
import { APIResource } from './resource.js';

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  /** Defaults to a random value; check it against the `state` your redirect URI receives. */
  state?: string;
}

/** Everything to keep until the user comes back to your redirect URI. */
export interface PendingAuthorization {
  /** Send the user here. */
  url: string;
  state: string;
  /** Keep it secret (server-side session, or memory in a native app) and pass it to `exchangeCode`. */
  codeVerifier: string;
}

export interface CodeExchange {
  clientId: string;
  code: string;
  redirectUri: string;
  codeVerifier: string;
  /** Confidential clients only; public clients rely on PKCE alone. */
  clientSecret?: string;
}

export interface TokenRefresh {
  clientId: string;
  refreshToken: string;
  /** A subset of the originally granted scopes. */
  scopes?: readonly string[];
  clientSecret?: string;
}

/**
 * OAuth 2.0 authorization code flow with PKCE (`S256`). Refresh tokens rotate: every `refresh()` answers a new
 * `refresh_token` that replaces the old one, and presenting an old one again revokes the whole grant — store the
 * new one before you use the new access token.
 */
export class OAuth extends APIResource {
  /** Builds the authorization URL with a fresh PKCE pair and state. */
  async authorizationUrl(request: AuthorizationRequest): Promise<PendingAuthorization> {
    const pkce = await createPkcePair();
    const state = request.state ?? randomToken(16);
    const url = new URL(`${this._transport.baseUrl}/oauth/authorize`);
    const query: AuthorizeOauthData['query'] = {
      response_type: 'code',
      client_id: request.clientId,
      redirect_uri: request.redirectUri,
      scope: request.scopes.join(' '),
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: pkce.method,
    };
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return { url: url.toString(), state, codeVerifier: pkce.verifier };
  }

  /** Redeems the authorization code (it works once) for an access and a refresh token. */
  exchangeCode(exchange: CodeExchange, options?: RequestOptions): Promise<OAuthTokenResponse> {
    return this.token(
      {
        grant_type: 'authorization_code',
        code: exchange.code,
        redirect_uri: exchange.redirectUri,
        code_verifier: exchange.codeVerifier,
        client_id: exchange.clientId,
        ...(exchange.clientSecret === undefined ? {} : { client_secret: exchange.clientSecret }),
      },
      options,
    );
  }

  /** Trades the current refresh token for new tokens; the answer's `refresh_token` replaces the one you sent. */
  refresh(refresh: TokenRefresh, options?: RequestOptions): Promise<OAuthTokenResponse> {
    return this.token(
      {
        grant_type: 'refresh_token',
        refresh_token: refresh.refreshToken,
        client_id: refresh.clientId,
        ...(refresh.scopes === undefined ? {} : { scope: refresh.scopes.join(' ') }),
        ...(refresh.clientSecret === undefined ? {} : { client_secret: refresh.clientSecret }),
      },
      options,
    );
  }

  /** The token endpoint as is (`POST /oauth/token`). */
  token(body: OAuthTokenRequest, options?: RequestOptions): Promise<OAuthTokenResponse> {
    return this._transport.call((call) => api.createOauthToken({ ...call, body }), options);
  }

  /** Revokes an access or refresh token (RFC 7009); revoking a refresh token ends the whole grant. */
  async revoke(body: OAuthRevokeRequest, options?: RequestOptions): Promise<void> {
    await this._transport.call((call) => api.revokeOauthToken({ ...call, body }), options);
  }

  /** Token introspection (RFC 7662); the calling client authenticates (pass `Authorization` in `options.headers`). */
  introspect(body: OAuthIntrospectRequest, options?: RequestOptions): Promise<OAuthIntrospection> {
    return this._transport.call((call) => api.introspectOauthToken({ ...call, body }), options);
  }

  /** The authorization server metadata (RFC 8414). */
  metadata(options?: RequestOptions): Promise<OAuthMetadata> {
    return this._transport.call((call) => api.getOauthMetadata({ ...call }), options);
  }

  /** The consent page a browser sees (`GET /oauth/authorize`), as a raw response: HTML, or a redirect. */
  authorize(query: AuthorizeOauthData['query'], options?: RequestOptions): Promise<Response> {
    return this._transport.raw((call) => api.authorizeOauth({ ...call, query }), options);
  }

  /** Submits the consent form (`POST /oauth/authorize`), as a raw response: the redirect back to the client. */
  submitConsent(body: OAuthConsent, options?: RequestOptions): Promise<Response> {
    return this._transport.raw((call) => api.submitOauthConsent({ ...call, body }), options);
  }
}

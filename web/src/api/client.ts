import createClient from 'openapi-fetch';
import type { components, paths } from './schema.gen';

/** The contract's resources, as the generated types have them. */
export type Schemas = components['schemas'];
export type User = Schemas['User'];
export type Wallet = Schemas['Wallet'];
export type Payment = Schemas['Payment'];
export type Transfer = Schemas['Transfer'];
export type Refund = Schemas['Refund'];
export type SagaStep = Schemas['SagaStep'];
/** A currency the API accepts (its configured list, as the document enumerates it). */
export type Currency = NonNullable<paths['/v1/auth/register']['post']['requestBody']['content']['application/json']['currency']>;

/** A currency code from the server's settings or a wallet, as the request types want it. */
export function asCurrency(code: string): Currency {
  return code as Currency;
}

/** An error answer in the contract's shape, thrown by `unwrap`. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For validation_error: each bad field and what is wrong with it. */
    readonly fields: Record<string, string> = {},
    readonly requestId = '',
  ) {
    super(message);
    this.name = 'ApiProblem';
  }
}

/**
 * The access token lives in this module's memory only: never in localStorage or sessionStorage,
 * where any script on the page could read it. A reload forgets it.
 */
let accessToken: string | undefined;
let onUnauthorized: () => void = () => undefined;

/** Sets (or clears) the token every request carries. */
export function setAccessToken(token: string | undefined): void {
  accessToken = token;
}

/** Whether a token is held. */
export function hasAccessToken(): boolean {
  return accessToken !== undefined;
}

/** What to do when the API says the token is no longer good (sign the person out). */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

/** The typed client of the API, generated from its OpenAPI document: a contract change breaks the build. */
export const api = createClient<paths>({ baseUrl: '/', credentials: 'same-origin' });

api.use({
  onRequest({ request }) {
    if (accessToken) request.headers.set('Authorization', `Bearer ${accessToken}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && accessToken && !request.url.includes('/v1/auth/')) onUnauthorized();
    return response;
  },
});

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { fields?: Record<string, string> }; requestId?: string };
}

/**
 * Sent with refresh and logout, which act on the cookie alone: the API refuses them without it
 * (or JSON, or this origin), so a form on another site cannot post them with the cookie.
 */
const SAME_SITE_HEADERS = { 'X-Requested-With': 'fetch' };

/**
 * Asks for a new access token with the httpOnly refresh cookie (the page never sees that cookie):
 * how a reload stays signed in. Undefined when there is no session (401) or the server is away.
 */
export function refreshSession(): Promise<{ accessToken: string; expiresIn: number } | undefined> {
  // One refresh at a time: a refresh token works once, and presenting it twice would end the session.
  refreshing ??= api
    .POST('/v1/auth/refresh', { headers: SAME_SITE_HEADERS })
    .then((result) => result.data)
    .catch(() => undefined)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

let refreshing: Promise<{ accessToken: string; expiresIn: number } | undefined> | undefined;

/** Ends the web session on the server (the refresh cookie is revoked and cleared); errors are ignored. */
export async function endSession(): Promise<void> {
  try {
    await api.POST('/v1/auth/logout', { headers: SAME_SITE_HEADERS });
  } catch {
    // Signing out locally must work even when the server cannot be reached.
  }
}

/** The data of a successful answer, or an ApiProblem with the contract's error in words. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined && result.response.ok) return result.data;
  const body = (result.error ?? {}) as ErrorBody;
  const status = result.response.status;
  throw new ApiProblem(
    status,
    body.error?.code ?? (status >= 500 ? 'internal_error' : 'unknown_error'),
    body.error?.message ?? `The server answered ${status}.`,
    body.error?.details?.fields ?? {},
    body.error?.requestId ?? result.response.headers.get('X-Request-Id') ?? '',
  );
}

/** A thrown value as an ApiProblem (network failures become status 0). */
export function asProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  return new ApiProblem(0, 'network_error', 'The server could not be reached. Check your connection and try again.');
}

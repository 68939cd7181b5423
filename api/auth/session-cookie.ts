import type { Context } from 'koa';

/** The refresh token cookie's name; it is sent only to `/v1/auth/*`. */
export const REFRESH_COOKIE_NAME = 'sagapay_refresh';

/** Where the browser sends the cookie: login, refresh and logout, nothing else. */
export const REFRESH_COOKIE_PATH = '/v1/auth';

function cookieAttributes(maxAgeSeconds: number, secure: boolean): string {
  return [`Path=${REFRESH_COOKIE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ');
}

/**
 * Sets the refresh token cookie: httpOnly (no script reads it), SameSite=Strict (no other site
 * makes the browser send it) and, behind HTTPS, Secure. The header is written directly rather
 * than through Koa's cookie jar, which refuses a Secure cookie when TLS ends at a proxy.
 */
export function setRefreshCookie(ctx: Context, token: string, maxAgeSeconds: number, secure: boolean): void {
  ctx.append('Set-Cookie', `${REFRESH_COOKIE_NAME}=${token}; ${cookieAttributes(maxAgeSeconds, secure)}`);
}

/** Tells the browser to drop the refresh token cookie. */
export function clearRefreshCookie(ctx: Context, secure: boolean): void {
  ctx.append('Set-Cookie', `${REFRESH_COOKIE_NAME}=; ${cookieAttributes(0, secure)}`);
}

/** The refresh token the browser sent, or undefined. */
export function readRefreshCookie(ctx: Context): string | undefined {
  return ctx.cookies.get(REFRESH_COOKIE_NAME) || undefined;
}

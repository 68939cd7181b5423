import type { Context } from 'koa';
import { HttpError } from '../errors';

/** The header the web wallet sends with refresh and logout; any non-empty value serves. */
export const REQUESTED_WITH_HEADER = 'X-Requested-With';

/** Fetch metadata values of a request a page of this origin made, or the person typed. */
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

function mediaTypeOf(ctx: Context): string {
  return (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
}

/** Whether `origin` (an Origin header) names the host this request was sent to. */
function isOwnOrigin(ctx: Context, origin: string): boolean {
  try {
    // The host alone: where TLS ends at a proxy the API may see http while the page says https.
    return new URL(origin).host === ctx.host;
  } catch {
    return false; // `null` (a sandboxed or privacy-sensitive context) and anything unparsable
  }
}

/**
 * Refuses (403 forbidden) a request that a page of another site could have made, riding on a
 * cookie alone: refresh and logout act on the refresh cookie, and a browser that does not
 * honour SameSite would send it with a cross-site form post. Another site's Origin, or fetch
 * metadata saying another site, is refused. Without an Origin, the request must carry
 * `Content-Type: application/json` or `X-Requested-With`: an HTML form can send neither, and a
 * script of another origin can send them only after a CORS preflight this API never grants.
 */
export function refuseCrossSiteRequest(ctx: Context): void {
  const origin = ctx.get('Origin');
  const fetchSite = ctx.get('Sec-Fetch-Site').toLowerCase();
  const fromAnotherSite = (origin !== '' && !isOwnOrigin(ctx, origin)) || (fetchSite !== '' && !OWN_FETCH_SITES.has(fetchSite));
  const vouched = origin !== '' || mediaTypeOf(ctx) === 'application/json' || ctx.get(REQUESTED_WITH_HEADER).trim() !== '';
  if (fromAnotherSite || !vouched) {
    throw new HttpError(
      403,
      'forbidden',
      `This request could have come from another site: send it from this origin, with Content-Type: application/json or an ${REQUESTED_WITH_HEADER} header.`,
    );
  }
}

import type { Knex } from 'knex';
import type { Middleware } from 'koa';
import type { Role } from '../../domain/types';
import { verifyAccessToken, type TokenSettings } from '../auth/tokens';
import { HttpError } from '../errors';
import { findUserForToken, type User } from '../users';

/** The state an authenticated route can rely on. */
export interface AuthenticatedState {
  requestId: string;
  user: User;
}

function unauthorized(): HttpError {
  return new HttpError(401, 'unauthorized', 'A valid bearer token is required.');
}

/**
 * Requires `Authorization: Bearer <token>` and loads the user it names (roles come from the
 * database). The same primary-key read checks the token's version against the user's, so a new
 * password or a closed account ends every older token on its next request, with no cache to expire;
 * and, for a token issued in a web session (claim `sid`), whether that session was revoked (logout,
 * refresh-token reuse), so its access tokens end with it. Still one query per request.
 */
export function authenticate(db: Knex, settings: TokenSettings): Middleware {
  return async (ctx, next) => {
    const match = /^Bearer +([\w-]+\.[\w-]+\.[\w-]*)$/i.exec(ctx.get('Authorization'));
    if (!match?.[1]) throw unauthorized();
    const claims = await verifyAccessToken(settings, match[1]);
    if (!claims) throw unauthorized();
    const found = await findUserForToken(db, claims.userId, claims.sessionId);
    if (!found || found.sessionRevoked) throw unauthorized();
    const { user } = found;
    if (user.tokenVersion !== claims.tokenVersion || user.status === 'closed') throw unauthorized();
    ctx.state.user = user;
    await next();
  };
}

/** Requires one of `roles`; 403 forbidden otherwise. */
export function requireRole(...roles: Role[]): Middleware {
  return async (ctx, next) => {
    const user = ctx.state.user as User | undefined;
    if (!user || !roles.includes(user.role)) throw new HttpError(403, 'forbidden', 'Your role may not do this.');
    await next();
  };
}

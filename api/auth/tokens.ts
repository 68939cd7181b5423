import { errors, jwtVerify, SignJWT } from 'jose';
import type { Role } from '../../domain/types';

/** Token settings from the configuration. */
export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** The one algorithm accepted; a token naming another (or `none`) is refused. */
const ALGORITHM = 'HS256';

/** Clock skew allowed between the API copies that sign and verify a token. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Who a verified token speaks for. */
export interface TokenClaims {
  userId: string;
  role: Role;
  /** The user's token version when the token was signed (claim `tv`); tokens from before versions count as 0. */
  tokenVersion: number;
  /**
   * The web session (refresh token family) the token was issued in (claim `sid`): logging that
   * session out, or refresh-token reuse in it, ends the token at once. Tokens signed without one
   * (tests, benchmarks) live until their expiry or a new token version.
   */
  sessionId?: string;
}

/** What a session id claim looks like: `ses_` and a ULID. */
const SESSION_ID_PATTERN = /^ses_[0-9A-HJKMNP-TV-Z]{26}$/;

/** Signs an access token for a user. */
export async function issueAccessToken(settings: TokenSettings, claims: TokenClaims): Promise<string> {
  const payload = { role: claims.role, tv: claims.tokenVersion, ...(claims.sessionId === undefined ? {} : { sid: claims.sessionId }) };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(`${settings.ttlSeconds}s`)
    .sign(new TextEncoder().encode(settings.secret));
}

/** Verifies signature, algorithm, issuer, audience and expiry; returns null for any bad token. */
export async function verifyAccessToken(settings: TokenSettings, token: string): Promise<TokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(settings.secret), {
      algorithms: [ALGORITHM],
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['sub', 'exp', 'iat'],
      // Signed tokens live ttlSeconds from iat: one claiming a later iat, or older than the TTL
      // whatever its exp says, was not issued by this API as configured now.
      maxTokenAge: settings.ttlSeconds,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    if (typeof payload.sub !== 'string') return null;
    const tokenVersion = payload.tv ?? 0;
    if (typeof tokenVersion !== 'number' || !Number.isSafeInteger(tokenVersion)) return null;
    const sessionId = payload.sid;
    if (sessionId === undefined) return { userId: payload.sub, role: payload.role as Role, tokenVersion };
    if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) return null;
    return { userId: payload.sub, role: payload.role as Role, tokenVersion, sessionId };
  } catch (error) {
    if (error instanceof errors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes of randomness in a generated secret (hex-encoded: twice as many characters). */
const SECRET_BYTES = 32;

/**
 * The JWT secret `npm run dev` uses when none is set: read from `<dataDir>/jwt-secret`, or made
 * at random and written there (owner-only) on the first run. Kept across restarts, so tokens
 * issued before a restart stay valid; delete the file to invalidate every token.
 */
export function developmentJwtSecret(dataDir: string): string {
  const path = join(dataDir, 'jwt-secret');
  if (existsSync(path)) {
    const kept = readFileSync(path, 'utf8').trim();
    if (kept.length < 32) throw new Error(`${path} holds fewer than 32 characters: delete it and a new secret is made`);
    return kept;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(SECRET_BYTES).toString('hex');
  // 'wx': two dev runs starting at once cannot both write; the loser reads the winner's.
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return developmentJwtSecret(dataDir);
    throw error;
  }
  return secret;
}

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../../config';
import { developmentJwtSecret } from './jwt-secret';

/** The JWT secret of `npm run dev` and the API's refusal of the public one outside the test suite. */
const ROOT = resolve(__dirname, '..', '..');
let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sagapay-jwt-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the development JWT secret', () => {
  it('when npm run dev finds no JWT_SECRET, then it makes a random one, owner-only, and keeps it across restarts', () => {
    const first = developmentJwtSecret(join(dataDir, '.data'));
    const again = developmentJwtSecret(join(dataDir, '.data'));
    const elsewhere = developmentJwtSecret(join(dataDir, 'other'));

    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toBe(first);
    expect(elsewhere).not.toBe(first);
    expect(statSync(join(dataDir, '.data', 'jwt-secret')).mode & 0o777).toBe(0o600);
    const config = loadConfig({ DATABASE_URL: 'mysql://u@127.0.0.1/db', NODE_ENV: 'development', JWT_SECRET: first }, { signsTokens: true });
    expect(config.jwt.secret).toBe(first);
  });

  it('when the API starts in development with the public example secret or none, then it exits 1 naming JWT_SECRET', async () => {
    const start = (jwtSecret: string | undefined) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'api/server.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, NODE_ENV: 'development', DATABASE_URL: 'mysql://u@127.0.0.1:1/db', PORT: '0', ...(jwtSecret ? { JWT_SECRET: jwtSecret } : {}) },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
    const [example, unset] = await Promise.all([start(DEVELOPMENT_JWT_SECRET), start(undefined)]);

    expect(example.code).toBe(1);
    expect(example.stderr).toMatch(/JWT_SECRET is the public example value/);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/JWT_SECRET is not set/);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { createDatabase } from '../infra/database';
import { testConfig } from '../test/support/stack';
import { writeLocalEnv } from './lib/local-env';

/** `npm run admin:create` as an operator runs it: its own process, the password on stdin. */
const PROJECT_ROOT = join(__dirname, '..');
let db: Knex;
let settingsDirectory: string;

/** Runs the script with `args`, `stdin` piped in; the environment is the test stack's plus `env` (undefined removes a variable). */
function adminCreate(args: string[], stdin: string, env: Record<string, string | undefined> = {}) {
  const merged: NodeJS.ProcessEnv = { ...process.env, SAGAPAY_LOCAL_ENV: join(settingsDirectory, 'absent.env'), ...env };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/admin-create.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: merged,
    input: stdin,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function uniqueEmail(): string {
  return `ops-${newId('req').slice(-10).toLowerCase()}@example.test`;
}

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 1);
  settingsDirectory = mkdtempSync(join(tmpdir(), 'sagapay-admin-create-'));
});

afterAll(async () => {
  await db.destroy();
  rmSync(settingsDirectory, { recursive: true, force: true });
});

describe('npm run admin:create', () => {
  test('when the password comes on stdin, then an admin exists once, with an argon2id hash and no wallet', async () => {
    const email = uniqueEmail();
    const created = adminCreate(['--email', email.toUpperCase()], 'a long passphrase\n');
    expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^admin created: usr_\\w+ <${email}>`)) as unknown });

    const admin = await db('users').where({ email }).first();
    expect(admin).toMatchObject({ role: 'admin', onboarding_status: 'completed' });
    expect(admin?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await db('accounts').where({ user_id: admin?.id ?? '' })).toEqual([]);

    const again = adminCreate(['--email', email], 'a long passphrase\n');
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/already exists/) as unknown });
  });

  test('when --password is given, then it is refused before anything is created', async () => {
    const email = uniqueEmail();
    const refused = adminCreate(['--email', email, '--password', 'a long passphrase'], '');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--password is not accepted/);
    expect(await db('users').where({ email })).toEqual([]);
  });

  test.each([
    ['too short', 'short\n', /8 to 128 characters/],
    ['on two lines', 'a long passphrase\nsecond line\n', /one line/],
  ])('when the password on stdin is %s, then nothing is created', async (_case, stdin, message) => {
    const email = uniqueEmail();
    const refused = adminCreate(['--email', email], stdin);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(message);
    expect(await db('users').where({ email })).toEqual([]);
  });

  test('when DATABASE_URL is unset, then the settings npm run dev wrote are used', async () => {
    const settings = join(settingsDirectory, 'dev.env');
    writeLocalEnv(settings, { DATABASE_URL: testConfig().databaseUrl });
    const email = uniqueEmail();
    const created = adminCreate(['--email', email], 'a long passphrase', { DATABASE_URL: undefined, SAGAPAY_LOCAL_ENV: settings });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(await db('users').where({ email, role: 'admin' })).toHaveLength(1);
  });

  test('when DATABASE_URL is unset and no stack is running, then the message says to start one', () => {
    const refused = adminCreate(['--email', uniqueEmail()], 'a long passphrase\n', { DATABASE_URL: undefined });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/start the stack with `npm run dev`/);
  });
});

/**
 * `npm run admin:create -- --email ops@example.com [--name "Ops Admin"]`: creates an admin user, the
 * only way to get one (register never makes admins). The password is typed at a hidden prompt, or
 * piped on stdin (`printf '%s\n' "$PASSWORD" | npm run -s admin:create -- --email …`); never an
 * argument. The database is DATABASE_URL, else the one of the running `npm run dev` (.data/.env.local).
 */
import { parseArgs } from 'node:util';
import { hashPassword } from '../api/auth/passwords';
import { HttpError } from '../api/errors';
import { insertUser } from '../api/users';
import { ConfigError, loadConfig } from '../config';
import { createDatabase } from '../infra/database';
import { loadLocalEnv, noStackMessage } from './lib/local-env';
import { readPassword } from './lib/password-input';

const USAGE = 'usage: npm run admin:create -- --email admin@example.com [--name "Ops Admin"]  (password: typed at the prompt, or one line on stdin)';
const PASSWORD_LENGTH = { min: 8, max: 128 } as const;

class UsageError extends Error {}

async function main(): Promise<void> {
  if (process.argv.slice(2).some((argument) => argument === '--password' || argument.startsWith('--password='))) {
    throw new UsageError('--password is not accepted: arguments land in shell history and `ps`. Type the password at the prompt, or pipe it on stdin.');
  }
  const { values } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string', default: 'Administrator' } } });
  const email = values.email?.trim().toLowerCase();
  if (!email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError('--email needs an e-mail address');

  loadLocalEnv();
  if (!process.env.DATABASE_URL) throw new UsageError(noStackMessage());
  const config = loadConfig();

  const password = await readPassword();
  if (password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max) {
    throw new UsageError(`the password must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`);
  }
  const db = createDatabase(config.databaseUrl, 1);
  try {
    const user = await insertUser(db, {
      email,
      passwordHash: await hashPassword(password),
      name: values.name ?? 'Administrator',
      phone: null,
      role: 'admin',
      currency: config.money.defaultCurrency,
    });
    console.log(`admin created: ${user.id} <${user.email}>`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof ConfigError) console.error(error.message);
  else if (error instanceof HttpError) console.error(`admin not created: ${error.message}`);
  else console.error('admin not created:', error instanceof Error ? error.message : String(error));
  process.exit(1);
});

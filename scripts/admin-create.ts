import { parseArgs } from 'node:util';
import { hashPassword } from '../api/auth/passwords';
import { HttpError } from '../api/errors';
import { insertUser } from '../api/users';
import { ConfigError, loadConfig } from '../config';
import { createDatabase } from '../infra/database';

const USAGE = 'usage: npm run admin:create -- --email admin@example.com --password <8-128 chars> [--name "Ops Admin"]';

/** Creates an admin user: the only way to get one (register never makes admins). */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string', default: 'Administrator' } },
  });
  const email = values.email?.trim().toLowerCase();
  const password = values.password;
  if (!email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || !password || password.length < 8 || password.length > 128) {
    console.error(USAGE);
    process.exit(2);
  }
  const config = loadConfig();
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
  if (error instanceof ConfigError) console.error(error.message);
  else if (error instanceof HttpError) console.error(`admin not created: ${error.message}`);
  else console.error('admin not created:', error instanceof Error ? error.message : String(error));
  process.exit(1);
});

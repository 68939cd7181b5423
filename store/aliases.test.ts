import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { createDatabase } from '../infra/database';
import { userWithWallet } from '../test/support/fixtures';
import { testConfig } from '../test/support/stack';
import { claimAlias, findAliasHolder, releaseAliases } from './aliases';

/** The store side of aliases on the real database: what account closing (`releaseAliases`) relies on. */
let db: Knex;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 4);
});

afterAll(async () => {
  await db.destroy();
});

const freshHandle = (label: string) => `${label}_${newId('req').slice(-10).toLowerCase()}`;

describe('releaseAliases', () => {
  it('when an account closes, then every handle of that user is freed inside its transaction and audited, and other users keep theirs', async () => {
    const [closing, other] = [await userWithWallet(db), await userWithWallet(db)];
    const [first, second, kept] = [freshHandle('one'), freshHandle('two'), freshHandle('kept')];
    for (const handle of [first, second]) expect((await claimAlias(db, closing.user.id, handle)).status).toBe('claimed');
    expect((await claimAlias(db, other.user.id, kept)).status).toBe('claimed');

    const released = await db.transaction((trx) => releaseAliases(trx, closing.user.id));

    expect(released.sort()).toEqual([first, second].sort());
    expect([await findAliasHolder(db, first), await findAliasHolder(db, second), await findAliasHolder(db, kept)]).toEqual([null, null, other.user.id]);
    const audit = await db('audit_log').whereIn('resource_id', [first, second]).where({ action: 'alias.released' });
    expect(audit.map((row) => [row.resource_id, row.actor_id]).sort()).toEqual([first, second].sort().map((handle) => [handle, closing.user.id]));
    expect((await claimAlias(db, other.user.id, first)).status).toBe('claimed');
    expect(await db.transaction((trx) => releaseAliases(trx, closing.user.id))).toEqual([]);
  });

  it('when the closing transaction rolls back, then the handles stay held', async () => {
    const { user } = await userWithWallet(db);
    const handle = freshHandle('stay');
    await claimAlias(db, user.id, handle);

    await expect(
      db.transaction(async (trx) => {
        await releaseAliases(trx, user.id);
        throw new Error('closing refused');
      }),
    ).rejects.toThrow('closing refused');

    expect(await findAliasHolder(db, handle)).toBe(user.id);
    expect(await db('audit_log').where({ resource_id: handle, action: 'alias.released' })).toEqual([]);
  });
});

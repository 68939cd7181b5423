import { loadConfig } from '../../config';
import { systemAccountId } from '../../domain/types';
import { createDatabase } from '../../infra/database';
import { postJournal } from '../../store/ledger';
import { userWithWallet } from '../../test/support/fixtures';
import { ledgerDifferences, snapshotLedger } from './ledger';

describe('the fuzzer’s ledger snapshot', () => {
  const config = loadConfig();
  const db = createDatabase(config.databaseUrl, 2, config.databaseWaitLimits);

  afterAll(async () => {
    await db.destroy();
  });

  it('when money moves to a watched user, then the snapshot differs; when it moves elsewhere, it does not', async () => {
    const { user, wallet } = await userWithWallet(db);
    const scope = new Set([user.id]);
    const before = await snapshotLedger(db, scope);

    await userWithWallet(db, { balance: 500 });
    const unchanged = ledgerDifferences(before, await snapshotLedger(db, scope));
    await postJournal(db, {
      key: `fuzz-ledger-test:${wallet.id}`,
      type: 'topup',
      referenceId: wallet.id,
      lines: [
        { accountId: systemAccountId('external', 'USD'), amount: -700, type: 'topup' },
        { accountId: wallet.id, amount: 700, type: 'topup' },
      ],
    });
    const moved = ledgerDifferences(before, await snapshotLedger(db, scope));

    expect(unchanged).toEqual([]);
    expect(moved).toEqual(['journals: 0 → 1', 'balanceSum: 0 → 700', expect.stringMatching(/^balanceChecksum: /)]);
  });

  it('when a watched wallet is frozen, then the snapshot differs (status is in its checksum)', async () => {
    const { user, wallet } = await userWithWallet(db);
    const scope = new Set([user.id]);
    const before = await snapshotLedger(db, scope);

    await db('accounts').where({ id: wallet.id }).update({ status: 'frozen' });

    expect(ledgerDifferences(before, await snapshotLedger(db, scope))).toEqual([expect.stringMatching(/^balanceChecksum: /)]);
  });
});

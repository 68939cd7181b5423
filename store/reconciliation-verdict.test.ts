import { isSound, type ReconciliationReport } from './reconciliation';

type Verdicted = Omit<ReconciliationReport, 'ok' | 'samples' | 'checkedAt'>;

/** A report of a sound ledger with no saga stuck. */
const SOUND: Verdicted = {
  sumOfAllAccounts: 0,
  unbalancedJournals: 0,
  walletsOutOfSync: 0,
  negativeUserWallets: 0,
  stuckSagas: 0,
  clearingMismatch: [],
  clearingShardMismatch: [],
  heldMismatch: [],
  offendingSagas: [],
};

/** One invariant broken, every other field as a sound ledger reads. */
const EACH_BROKEN: Record<keyof Verdicted, Partial<Verdicted>> = {
  sumOfAllAccounts: { sumOfAllAccounts: -1 },
  unbalancedJournals: { unbalancedJournals: 1 },
  walletsOutOfSync: { walletsOutOfSync: 1 },
  negativeUserWallets: { negativeUserWallets: 1 },
  stuckSagas: { stuckSagas: 1 },
  clearingMismatch: { clearingMismatch: [{ currency: 'USD', clearingBalance: 100, sagasInFlight: 0 }] },
  clearingShardMismatch: { clearingShardMismatch: [{ currency: 'USD', shard: 1, accountId: 'acc_clearing_usd_1', clearingBalance: 100, sagasInFlight: 0 }] },
  heldMismatch: { heldMismatch: [{ walletId: 'wal_1', held: 100, unreleasedSagaCredits: 0 }] },
  offendingSagas: { offendingSagas: ['pay_1'] },
};

describe('the reconciliation verdict (ok)', () => {
  it('when every invariant holds and no saga is stuck, then ok is true', () => {
    expect(isSound(SOUND)).toBe(true);
  });

  it('when the table of broken invariants is read, then it breaks every field the verdict reads, each alone', () => {
    expect(Object.keys(EACH_BROKEN).sort()).toEqual(Object.keys(SOUND).sort());
  });

  it.each(Object.entries(EACH_BROKEN))('when only %s is broken, then ok is false', (_field, broken) => {
    expect(isSound({ ...SOUND, ...broken })).toBe(false);
  });
});

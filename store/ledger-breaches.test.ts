import { ledgerBreaches, SOUND_LEDGER } from './reconciliation';

describe('ledgerBreaches', () => {
  it('finds nothing in a sound report, whatever else it holds (stuck sagas, samples)', () => {
    const report = { ...SOUND_LEDGER, stuckSagas: 3, ok: false };
    expect(ledgerBreaches(report)).toEqual([]);
  });

  it('names each field that is off, with what it reads and what it should', () => {
    const report = { ...SOUND_LEDGER, sumOfAllAccounts: -150, offendingSagas: ['pay_1'], heldMismatch: [{ walletId: 'wal_1', held: 5, unreleasedSagaCredits: 0 }] };
    expect(ledgerBreaches(report)).toEqual([
      'sumOfAllAccounts is -150, not 0',
      'heldMismatch is [{"walletId":"wal_1","held":5,"unreleasedSagaCredits":0}], not []',
      'offendingSagas is ["pay_1"], not []',
    ]);
  });

  it('counts a missing field as a breach, so a report of another shape cannot pass', () => {
    expect(ledgerBreaches({})).toHaveLength(Object.keys(SOUND_LEDGER).length);
  });
});

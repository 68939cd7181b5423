import { MAX_LEDGER_SYSTEM_SHARDS, shardOfSaga } from './ledger-shards';
import { systemAccountId, systemAccountKey } from './types';

describe('shardOfSaga', () => {
  it('when the same id is asked twice or with one shard, then the answer is stable, and 0 for one shard', () => {
    expect(shardOfSaga('pay_01JEXAMPLE', 8)).toBe(shardOfSaga('pay_01JEXAMPLE', 8));
    expect(shardOfSaga('pay_01JEXAMPLE', 1)).toBe(0);
  });

  it.each([
    // FNV-1a 32 of the id, modulo the shard count; pinned so a change of the hash cannot pass unnoticed.
    ['', 1, 0],
    ['a', 64, 0xe40c292c % 64],
    ['pay_1', 8, fnv1a('pay_1') % 8],
  ])('when the id is %j among %i shards, then its shard is %i', (sagaId, shards, shard) => {
    expect(shardOfSaga(sagaId, shards)).toBe(shard);
  });

  it('when 8000 ULID-like ids are hashed into 8 shards, then each shard gets between 800 and 1200 of them', () => {
    const counts = new Array<number>(8).fill(0);
    for (let index = 0; index < 8_000; index += 1) {
      const id = `pay_01JD${index.toString(36).toUpperCase().padStart(8, '0')}QZ`;
      const shard = shardOfSaga(id, 8);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1_200);
    }
  });

  it.each([0, -1, 1.5, MAX_LEDGER_SYSTEM_SHARDS + 1, Number.NaN])('when the shard count is %p, then it is refused', (shards) => {
    expect(() => shardOfSaga('pay_1', shards)).toThrow(RangeError);
  });
});

describe('systemAccountId and systemAccountKey', () => {
  it('when the shard is 0 or left out, then the id and key are those of the unsharded account; others carry the shard', () => {
    expect(systemAccountId('clearing', 'USD')).toBe('acc_clearing_usd');
    expect(systemAccountId('clearing', 'USD', 0)).toBe('acc_clearing_usd');
    expect(systemAccountId('fees', 'EUR', 3)).toBe('acc_fees_eur_3');
    expect(systemAccountKey('fees', 'EUR')).toBe('fees:EUR');
    expect(systemAccountKey('clearing', 'USD', 63)).toBe('clearing:USD:63');
    expect(() => systemAccountId('clearing', 'USD', -1)).toThrow(RangeError);
  });
});

/** A reference FNV-1a over UTF-16 code units, written independently of the one under test (BigInt arithmetic). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5n;
  for (const char of text) {
    hash ^= BigInt(char.charCodeAt(0));
    hash = (hash * 0x01000193n) % 0x100000000n;
  }
  return Number(hash);
}

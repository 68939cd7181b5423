import fc from 'fast-check';
import { MAX_FEE_BPS } from '../config';
import { assertSafeInteger, feeRoundHalfUp, formatAmount, toSafeInteger } from './money';

/** The largest amount the API accepts by default (MAX_AMOUNT). */
const MAX_AMOUNT = 100_000_000;

describe('feeRoundHalfUp', () => {
  it.each([
    // amount, feeBps, fee, net
    [10_000, 200, 200, 9_800],
    [1_234, 200, 25, 1_209], // 24.68 → 25
    [25, 200, 1, 24], // 0.5 → 1: half rounds up
    [24, 200, 0, 24], // 0.48 → 0
    [1, 200, 0, 1],
    [1, 5_000, 1, 0], // 0.5 → 1
    [100_000_000, 200, 2_000_000, 98_000_000],
    [999, 0, 0, 999],
    [999, 10_000, 999, 0],
    [Number.MAX_SAFE_INTEGER, 200, 180_143_985_094_820, 8_827_055_269_646_171],
  ])('when amount is %i and feeBps %i, then fee is %i and net %i', (amount, feeBps, fee, netAmount) => {
    expect(feeRoundHalfUp(amount, feeBps)).toEqual({ fee, netAmount });
  });

  it.each([
    [1.5, 200],
    [-1, 200],
    [100, -1],
    [100, 10_001],
    [Number.MAX_SAFE_INTEGER + 1, 200],
    [100, 2.5],
  ])('when amount is %p and feeBps %p, then it refuses', (amount, feeBps) => {
    expect(() => feeRoundHalfUp(amount, feeBps)).toThrow();
  });
});

describe('formatAmount', () => {
  it.each([
    [1_234, 'USD', '12.34'],
    [5, 'USD', '0.05'],
    [0, 'EUR', '0.00'],
    [-1_050, 'GBP', '-10.50'],
    [1_234, 'JPY', '1234'],
    [1_234, 'KWD', '1.234'],
    [5, 'BHD', '0.005'],
  ])('when %i %s is formatted, then it reads %s', (amount, currency, text) => {
    expect(formatAmount(amount, currency)).toBe(text);
  });
});

describe('safe integers at the boundaries', () => {
  it('when a value is a float, string or unsafe, then assertSafeInteger throws', () => {
    for (const bad of [1.5, '12', Number.NaN, Number.MAX_SAFE_INTEGER + 2, null]) {
      expect(() => assertSafeInteger(bad, 'amount')).toThrow(/amount must be a safe integer/);
    }
  });

  it('when the database returns a decimal string, then toSafeInteger converts it only if safe', () => {
    expect(toSafeInteger('-42', 'sum')).toBe(-42);
    expect(toSafeInteger(7, 'sum')).toBe(7);
    expect(() => toSafeInteger('9007199254740993', 'sum')).toThrow();
    expect(() => toSafeInteger('1.5', 'sum')).toThrow();
  });
});

describe('feeRoundHalfUp, for every amount and fee rate (fast-check)', () => {
  const amounts = fc.integer({ min: 0, max: MAX_AMOUNT });
  const rates = fc.integer({ min: 0, max: 10_000 });

  it('when any fee is computed, then fee + net = amount and 0 ≤ fee ≤ amount', () => {
    fc.assert(
      fc.property(amounts, rates, (amount, feeBps) => {
        const { fee, netAmount } = feeRoundHalfUp(amount, feeBps);
        expect(Number.isSafeInteger(fee) && Number.isSafeInteger(netAmount)).toBe(true);
        expect(fee + netAmount).toBe(amount);
        expect(fee >= 0 && fee <= amount).toBe(true);
      }),
    );
  });

  it('when any fee is computed, then it is within ½ minor unit of the exact product, and exact halves round up', () => {
    fc.assert(
      fc.property(amounts, rates, (amount, feeBps) => {
        const { fee } = feeRoundHalfUp(amount, feeBps);
        // Twice the error, in units of 1/10000 of a minor unit: |fee − amount × feeBps / 10000| ≤ ½, exactly.
        const error = BigInt(fee) * 10_000n - BigInt(amount) * BigInt(feeBps);
        expect(error >= -5_000n && error <= 5_000n).toBe(true);
        if (error === -5_000n) throw new Error('an exact half was rounded down');
      }),
    );
  });

  it('when amount × rate is an exact half of a minor unit, then the fee rounds up, for every such pair', () => {
    // amount × feeBps = 5000 × an odd number exactly when the product is a half: 5000 = 2³ × 5⁴ split
    // between the two factors, each times an odd cofactor (which may hold more fives, never a two).
    const odd = (max: number) => fc.integer({ min: 0, max: Math.floor((max - 1) / 2) }).map((k) => 2 * k + 1);
    const exactHalves = fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }))
      .map(([twos, fives]) => ({ amountBase: 2 ** twos * 5 ** fives, rateBase: 2 ** (3 - twos) * 5 ** (4 - fives) }))
      .chain(({ amountBase, rateBase }) =>
        fc.tuple(odd(Math.floor(MAX_AMOUNT / amountBase)), odd(Math.floor(10_000 / rateBase))).map(([m, n]) => ({ amount: amountBase * m, feeBps: rateBase * n })),
      );
    fc.assert(
      fc.property(exactHalves, ({ amount, feeBps }) => {
        expect((amount * feeBps) % 10_000).toBe(5_000);
        const { fee } = feeRoundHalfUp(amount, feeBps);
        expect(BigInt(fee) * 10_000n - BigInt(amount) * BigInt(feeBps)).toBe(5_000n);
      }),
    );
  });

  it('when the amount grows, then the fee never shrinks', () => {
    fc.assert(
      fc.property(amounts, amounts, rates, (first, second, feeBps) => {
        const [smaller, larger] = first <= second ? [first, second] : [second, first];
        expect(feeRoundHalfUp(smaller, feeBps).fee).toBeLessThanOrEqual(feeRoundHalfUp(larger, feeBps).fee);
      }),
    );
  });

  it('when the rate is at most MAX_FEE_BPS, then every payment leaves the merchant at least 1 minor unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_AMOUNT }), fc.integer({ min: 0, max: MAX_FEE_BPS }), (amount, feeBps) => {
        expect(feeRoundHalfUp(amount, feeBps).netAmount).toBeGreaterThanOrEqual(1);
      }),
    );
    // One basis point more, and a 1-unit payment nets 0: the journal would need a zero line, which the ledger refuses.
    expect(feeRoundHalfUp(1, MAX_FEE_BPS + 1)).toEqual({ fee: 1, netAmount: 0 });
  });
});

import { minorUnitDigits } from './currencies';

/** Money is always an integer count of minor units (cents); these helpers guard that. */

/** Throws unless `value` is a safe integer; `what` names it in the message. */
export function assertSafeInteger(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${what} must be a safe integer, got ${String(value)}`);
  }
}

/** Converts a BIGINT/DECIMAL read from the database (number or decimal string) to a safe integer. */
export function toSafeInteger(value: unknown, what: string): number {
  const converted = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  assertSafeInteger(converted, what);
  return converted;
}

/** Renders minor units as a plain decimal string, e.g. 1234 USD → "12.34", 1234 KWD → "1.234", 1234 JPY → "1234". */
export function formatAmount(amount: number, currency: string): string {
  assertSafeInteger(amount, 'amount');
  const digits = minorUnitDigits(currency);
  const sign = amount < 0 ? '-' : '';
  const absolute = String(Math.abs(amount)).padStart(digits + 1, '0');
  if (digits === 0) return `${sign}${absolute}`;
  return `${sign}${absolute.slice(0, -digits)}.${absolute.slice(-digits)}`;
}

/**
 * The platform fee in minor units: amount × feeBps / 10000, rounded half up.
 * Exact in integers: BigInt avoids the rounding error of a float product.
 */
export function feeRoundHalfUp(amount: number, feeBps: number): { fee: number; netAmount: number } {
  assertSafeInteger(amount, 'amount');
  assertSafeInteger(feeBps, 'feeBps');
  if (amount < 0) throw new RangeError('amount must not be negative');
  if (feeBps < 0 || feeBps > 10_000) throw new RangeError('feeBps must be between 0 and 10000');
  const fee = Number((BigInt(amount) * BigInt(feeBps) + 5_000n) / 10_000n);
  const netAmount = amount - fee;
  if (fee > amount || fee + netAmount !== amount) throw new Error('fee arithmetic broke its invariant');
  return { fee, netAmount };
}

import { minorUnitDigits } from '../../domain/currencies';

/**
 * How many minor units a currency's major unit has, as digits (USD 2, JPY 0, KWD 3): the server's
 * own table (domain/currencies.ts), so the page and the API never disagree on where the point goes.
 */
export const minorDigits: (currency: string) => number = minorUnitDigits;

/** An amount in minor units, in the currency's own format for the reader's locale ("$12.34", "€5.00"). */
export function formatMoney(minorUnits: number, currency: string, options: { signed?: boolean; locale?: string } = {}): string {
  const digits = minorDigits(currency);
  const formatter = new Intl.NumberFormat(options.locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: options.signed ? 'exceptZero' : 'auto',
  });
  return formatter.format(minorUnits / 10 ** digits);
}

/** The result of reading an amount typed by a person. */
export type ParsedAmount = { ok: true; minorUnits: number } | { ok: false; message: string };

/**
 * Reads a decimal amount as typed ("12.34", "1,000.5", "7") into integer minor units, by string
 * arithmetic so no binary fraction ever rounds a cent away. Refuses more decimals than the currency has.
 */
export function parseAmount(text: string, currency: string): ParsedAmount {
  const digits = minorDigits(currency);
  const cleaned = text.trim().replace(/[\s,_]/g, '');
  if (cleaned === '') return { ok: false, message: 'Enter an amount.' };
  const match = /^(\d{1,15})(?:\.(\d*))?$/.exec(cleaned);
  if (!match) return { ok: false, message: 'Enter a number such as 12.50.' };
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > digits) {
    return { ok: false, message: digits === 0 ? `${currency} has no decimals.` : `At most ${digits} decimals for ${currency}.` };
  }
  const minorUnits = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(minorUnits)) return { ok: false, message: 'That amount is too large.' };
  if (minorUnits <= 0) return { ok: false, message: 'The amount must be more than zero.' };
  return { ok: true, minorUnits };
}

/** A minor-unit amount as the decimal text a person would type ("12.34"), for prefilling a field. */
export function toDecimalText(minorUnits: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(minorUnits);
  const text = String(minorUnits).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** A date and time in the reader's locale. */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

import { formatAmount } from '../domain/money';
import { formatMoney, minorDigits, parseAmount, toDecimalText } from '../web/src/money';

/** The web wallet's money input and display: decimals typed by people, integer minor units on the wire. */
describe('amounts typed in the web wallet', () => {
  it.each([
    ['12.34', 'USD', 1234],
    ['12.3', 'USD', 1230],
    ['12', 'USD', 1200],
    ['0.01', 'USD', 1],
    ['1,000.50', 'USD', 100050],
    [' 7 ', 'EUR', 700],
    ['0.29', 'USD', 29],
    ['1.005', 'BHD', 1005],
    ['500', 'JPY', 500],
    ['90071992547409.91', 'USD', 9007199254740991],
  ])('when "%s" is typed for %s, then %i minor units are sent (no binary fraction rounding)', (text, currency, minorUnits) => {
    expect(parseAmount(text, currency)).toEqual({ ok: true, minorUnits });
  });

  it.each([
    ['', 'USD', 'Enter an amount.'],
    ['abc', 'USD', 'Enter a number such as 12.50.'],
    ['-5', 'USD', 'Enter a number such as 12.50.'],
    ['1e3', 'USD', 'Enter a number such as 12.50.'],
    ['0', 'USD', 'The amount must be more than zero.'],
    ['0.00', 'USD', 'The amount must be more than zero.'],
    ['1.999', 'USD', 'At most 2 decimals for USD.'],
    ['5.5', 'JPY', 'JPY has no decimals.'],
    ['90071992547409.92', 'USD', 'That amount is too large.'],
  ])('when "%s" is typed for %s, then it is refused with "%s"', (text, currency, message) => {
    expect(parseAmount(text, currency)).toEqual({ ok: false, message });
  });

  it('when amounts are shown, then each currency has its own format and number of decimals', () => {
    const en = { locale: 'en-US' };
    expect([minorDigits('USD'), minorDigits('JPY'), minorDigits('BHD'), minorDigits('INR'), minorDigits('KWD')]).toEqual([2, 0, 3, 2, 3]);
    expect(formatMoney(1234, 'USD', en)).toBe('$12.34');
    expect(formatMoney(123456, 'EUR', { locale: 'de-DE' })).toBe('1.234,56\u00a0€');
    expect(formatMoney(-1234, 'USD', { ...en, signed: true })).toBe('-$12.34');
    expect(formatMoney(2550, 'USD', { ...en, signed: true })).toBe('+$25.50');
    expect(formatMoney(500, 'EUR', en)).toBe('€5.00');
    expect(formatMoney(500, 'JPY', en)).toBe('¥500');
    expect(formatMoney(1005, 'BHD', en)).toMatch(/1\.005/);
    expect(formatMoney(1234, 'KWD', en)).toBe('KWD\u00a01.234');
    expect([toDecimalText(1234, 'USD'), toDecimalText(5, 'USD'), toDecimalText(500, 'JPY'), toDecimalText(1234, 'KWD')]).toEqual(['12.34', '0.05', '500', '1.234']);
  });

  it('when the page and the server format one amount, then they agree on its decimals: one currency table', () => {
    for (const currency of ['USD', 'JPY', 'KWD', 'BHD', 'INR']) {
      expect({ currency, page: toDecimalText(123456, currency) }).toEqual({ currency, page: formatAmount(123456, currency) });
    }
    expect(parseAmount('1.234', 'KWD')).toEqual({ ok: true, minorUnits: 1234 });
  });
});

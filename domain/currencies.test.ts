import { isKnownCurrency, minorUnitDigits } from './currencies';

describe('the currency table (ICU through Intl)', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['INR', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['TND', 3],
  ])('when %s is looked up, then it has %i minor-unit digits', (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });

  it('when a code is not ISO 4217, then it is unknown and has no digits, rather than a silent 2', () => {
    expect([isKnownCurrency('USD'), isKnownCurrency('XYZ'), isKnownCurrency('usd'), isKnownCurrency('US')]).toEqual([true, false, false, false]);
    expect(() => minorUnitDigits('XYZ')).toThrow(/XYZ is not an ISO 4217 currency code/);
  });
});

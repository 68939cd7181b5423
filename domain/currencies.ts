/**
 * The one currency table of SagaPay: which ISO 4217 codes exist and how many minor-unit digits
 * each has (USD 2, JPY 0, KWD 3). It reads ICU, the Unicode CLDR data that Node (built with full
 * ICU) and every browser ship, through `Intl`, so the server, its e-mails and the web wallet (which
 * imports this file too) cannot disagree and no list is kept by hand. Pure: no Node built-ins, so
 * Vite bundles it for the browser as it is.
 */

/** The currency codes this runtime's ICU knows, upper case (ISO 4217, as CLDR carries them). */
function knownCodes(): ReadonlySet<string> {
  return new Set(Intl.supportedValuesOf('currency'));
}

let codes: ReadonlySet<string> | undefined;

/** True when `code` is an ISO 4217 currency the runtime's ICU knows (`XYZ` and `usd` are not). */
export function isKnownCurrency(code: string): boolean {
  codes ??= knownCodes();
  return codes.has(code);
}

const digitsByCurrency = new Map<string, number>();

/**
 * The number of minor-unit digits of `currency`: ICU's (CLDR's) fraction digits for money in it.
 * Throws for a code ICU does not know: `Intl` would silently answer 2 for any three letters, which
 * is how an amount ends up off by ten.
 */
export function minorUnitDigits(currency: string): number {
  const known = digitsByCurrency.get(currency);
  if (known !== undefined) return known;
  if (!isKnownCurrency(currency)) throw new RangeError(`${currency} is not an ISO 4217 currency code known to ICU`);
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  digitsByCurrency.set(currency, digits);
  return digits;
}

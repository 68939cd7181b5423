import { type DomainError, ErrorType, type ErrorTypeName } from '../domain/errors';

/** An error the API answers with: status, the contract's code, and a message safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 400 validation_error; `fields` maps each bad field to what is wrong with it. */
export function validationError(fields: Record<string, string>): HttpError {
  return new HttpError(400, 'validation_error', 'The request has invalid fields.', { fields });
}

/** 404 with one of the contract's not-found codes. */
export function notFound(code: 'not_found' | 'wallet_not_found' | 'merchant_not_found' = 'not_found'): HttpError {
  const what = code === 'wallet_not_found' ? 'Wallet' : code === 'merchant_not_found' ? 'Merchant' : 'Resource';
  return new HttpError(404, code, `${what} not found.`);
}

const DOMAIN_TO_HTTP: Partial<Record<ErrorTypeName, () => HttpError>> = {
  [ErrorType.WalletFrozen]: () => new HttpError(422, 'wallet_frozen', 'The wallet is frozen.'),
  [ErrorType.CurrencyMismatch]: () => new HttpError(422, 'currency_mismatch', 'The currency does not match the wallet.'),
  [ErrorType.AccountNotFound]: () => notFound('wallet_not_found'),
};

/** Maps a domain refusal raised outside a saga (e.g. a top-up) to its HTTP answer, if it has one. */
export function fromDomainError(error: DomainError): HttpError | undefined {
  return DOMAIN_TO_HTTP[error.type]?.();
}

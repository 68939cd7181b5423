import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors';

/**
 * Wraps an activity so a DomainError (a business refusal) surfaces as a
 * non-retryable ApplicationFailure of the same type; anything else is left to
 * the retry policy.
 */
export function withDomainFailures<Args extends unknown[], Result>(
  activity: (...args: Args) => Promise<Result>,
): (...args: Args) => Promise<Result> {
  return async (...args: Args) => {
    try {
      return await activity(...args);
    } catch (error) {
      if (error instanceof DomainError) {
        throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true });
      }
      throw error;
    }
  };
}

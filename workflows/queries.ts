import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { AWAIT_FINAL_UPDATE, type SagaFinal } from '../domain/money-sagas';

/** Every saga answers with the step it is on, for operators and tests. */
export const currentStepQuery = defineQuery<string>('currentStep');

/**
 * Waits until the saga is final (succeeded, or failed after its compensations) or waits for an
 * admin's review, and answers its status. The API sends it with the workflow's start (Update-with-Start) for a POST's synchronous
 * answer; it returns before notify, and adds no command to the history.
 */
export const awaitFinalUpdate = defineUpdate<SagaFinal>(AWAIT_FINAL_UPDATE);

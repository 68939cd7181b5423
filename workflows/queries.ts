import { defineQuery } from '@temporalio/workflow';

/** Every saga answers with the step it is on, for operators and tests. */
export const currentStepQuery = defineQuery<string>('currentStep');

/** The workflowsPath of every worker: each saga lives in a file of its own. */
export { onboardingWorkflow } from './onboarding';
export { paymentWorkflow } from './payment';

/** The workflowsPath of every worker: each saga lives in a file of its own. */
export { emailDeliveryWorkflow } from './email-delivery';
export { onboardingWorkflow } from './onboarding';
export { paymentWorkflow } from './payment';
export { refundWorkflow } from './refund';
export { sagaRecoveryWorkflow } from './saga-recovery';
export { transferWorkflow } from './transfer';
export { webhookDeliveryWorkflow } from './webhook-delivery';

import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { DeliveryRetryPolicy, EmailDeliveryInput, WebhookDeliveryInput } from '../domain/deliveries';
import { emailWorkflowId, webhookWorkflowId } from '../domain/workflow-ids';

/**
 * Starts the delivery workflows of before (`email-<id>`, `webhook-<id>`). Nothing in the
 * workers starts them any more (their dispatchers deliver from the database); the histories
 * recording script still does, so that the workflows, kept registered for the ones still
 * running, keep a recorded history that must replay.
 */
export interface DeliveryStarter {
  startEmail(notificationId: string): Promise<void>;
  startWebhook(eventId: string): Promise<void>;
}

/** Where delivery workflows run and how they retry. */
export interface DeliverySettings {
  /** The task queue of the workflows (the payments worker runs every workflow). */
  workflowTaskQueue: string;
  /** The task queue of their activities (the notifications worker). */
  notificationsTaskQueue: string;
  emailRetry: DeliveryRetryPolicy;
  webhookRetry: DeliveryRetryPolicy;
}

/** Starts a workflow once: a duplicate start while it runs or after it closed is not an error. */
async function startOnce(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/**
 * Starts `email-<notificationId>` and `webhook-<eventId>` with the Temporal client of the
 * notifications worker. REJECT_DUPLICATE + USE_EXISTING: an activity retry never sends twice;
 * the rows' status guards the rare start after Temporal has forgotten a closed workflow.
 */
export function temporalDeliveryStarter(client: Client, settings: DeliverySettings): DeliveryStarter {
  const common = { taskQueue: settings.workflowTaskQueue, workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE' } as const;
  return {
    startEmail: (notificationId) => {
      const input: EmailDeliveryInput = { notificationId, notificationsTaskQueue: settings.notificationsTaskQueue, retry: settings.emailRetry };
      return startOnce(() =>
        client.workflow.start('emailDeliveryWorkflow', { ...common, workflowId: emailWorkflowId(notificationId), args: [input], staticSummary: `e-mail notification ${notificationId}` }),
      );
    },
    startWebhook: (eventId) => {
      const input: WebhookDeliveryInput = { eventId, notificationsTaskQueue: settings.notificationsTaskQueue, retry: settings.webhookRetry };
      return startOnce(() =>
        client.workflow.start('webhookDeliveryWorkflow', { ...common, workflowId: webhookWorkflowId(eventId), args: [input], staticSummary: `webhook event ${eventId}` }),
      );
    },
  };
}

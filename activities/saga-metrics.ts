import { Context } from '@temporalio/activity';
import type { MoneySagaKind } from '../domain/money-sagas';

/**
 * Records a saga reaching its final status into the `sagapay_saga_duration` histogram
 * (seconds from the resource's creation, so the client's whole wait, to its final status),
 * labelled by saga and status: its `_count` is also the number of sagas ended per status.
 * Call it only when this attempt wrote the final status, so a retried activity counts once.
 * The worker's Runtime exports it on the worker's metrics port; elsewhere it is a no-op.
 */
export function recordSagaFinished(saga: MoneySagaKind, status: 'succeeded' | 'failed', createdAt: Date, now: Date = new Date()): void {
  const seconds = Math.max(0, (now.getTime() - createdAt.getTime()) / 1000);
  Context.current()
    .metricMeter.withTags({ saga, status })
    .createHistogram('sagapay_saga_duration', 'float', 's', 'Seconds from a saga’s creation to its final status')
    .record(seconds);
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';

/**
 * Every recorded history in test/histories/ must replay on today's workflow
 * code: a change that alters a running saga's command sequence fails here
 * before it can break production (see CONTRIBUTING.md: use patched()).
 */
const HISTORIES = join(__dirname, 'histories');
const replayOptions = () => ({ workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) } });

function recordedHistories(): Array<{ file: string; history: unknown }> {
  return readdirSync(HISTORIES)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ file, history: JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as unknown }));
}

describe('replay of recorded histories', () => {
  it('when there are recorded histories, then onboarding, the payment, transfer and refund sagas (success, compensation, refusal) and the deliveries are among them', () => {
    expect(recordedHistories().map(({ file }) => file)).toEqual(
      expect.arrayContaining([
        'onboarding-customer.json',
        'payment-succeeded.json',
        'payment-compensated-write-ledger.json',
        'payment-refused-insufficient-funds.json',
        'transfer-succeeded.json',
        'transfer-compensated-write-ledger.json',
        'transfer-refused-insufficient-funds.json',
        'refund-succeeded.json',
        'refund-compensated-write-ledger.json',
        'email-delivery-retried.json',
        'email-delivery-refused.json',
        'webhook-delivery-retried.json',
      ]),
    );
  });

  it.each(recordedHistories().map(({ file, history }) => [file, history] as const))(
    'when %s is replayed on the current workflow code, then it replays without a determinism error',
    async (file, history) => {
      await expect(Worker.runReplayHistory(replayOptions(), history, file)).resolves.toBeUndefined();
    },
  );

  it('when a recorded history no longer matches the code, then replay fails with a determinism violation', async () => {
    const history = JSON.parse(readFileSync(join(HISTORIES, 'onboarding-customer.json'), 'utf8')) as {
      events: Array<{ activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }>;
    };
    const scheduled = history.events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'creditPromotion');
    if (!scheduled?.activityTaskScheduledEventAttributes?.activityType) throw new Error('the recording has no creditPromotion step');
    // As if the saga had been recorded by code that called another activity at this step.
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'grantBonus';

    await expect(Worker.runReplayHistory(replayOptions(), history, 'tampered-onboarding')).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});

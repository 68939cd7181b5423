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

/** The parts of a history event these tests read. */
interface RecordedEvent {
  eventId?: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; retryPolicy?: { maximumAttempts?: number } };
  activityTaskStartedEventAttributes?: { scheduledEventId?: string; attempt?: number };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: Array<{ data?: string }> }> };
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: Array<{ data?: string }> } };
}

/** The ids of the patches a history's workflow code took (`patched()` markers). */
function patchesOf(events: RecordedEvent[]): string[] {
  return events.flatMap((event) =>
    event.markerRecordedEventAttributes?.markerName === 'core_patch'
      ? Object.values(event.markerRecordedEventAttributes.details ?? {}).flatMap((detail) =>
          (detail.payloads ?? []).map((payload) => (JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString('utf8')) as { id?: string }).id ?? ''),
        )
      : [],
  );
}

function recordedHistories(): Array<{ file: string; history: unknown }> {
  return readdirSync(HISTORIES)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ file, history: JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as unknown }));
}

describe('replay of recorded histories', () => {
  it('when there are recorded histories, then onboarding, the payment, transfer and refund sagas (success, compensations, refusal, errors) and the deliveries are among them', () => {
    expect(recordedHistories().map(({ file }) => file)).toEqual(
      expect.arrayContaining([
        'onboarding-customer.json',
        'onboarding-merchant.json',
        'payment-succeeded.json',
        'payment-compensated-write-ledger.json',
        'payment-compensated-credit-merchant.json',
        'payment-refused-insufficient-funds.json',
        'payment-processing-error.json',
        'payment-notify-failed.json',
        'transfer-succeeded.json',
        'transfer-compensated-write-ledger.json',
        'transfer-refused-insufficient-funds.json',
        'refund-succeeded.json',
        'refund-compensated-write-ledger.json',
        'email-delivery-retried.json',
        'email-delivery-refused.json',
        'webhook-delivery-retried.json',
        'webhook-delivery-gave-up.json',
        'transfer-risk-declined.json',
        'payment-risk-declined.json',
        'payment-review-approved.json',
        'payment-review-declined.json',
        'payment-review-timed-out.json',
      ]),
    );
  });

  const FENCED = ['fenced-compensations'];
  const RISK = ['fenced-compensations', 'risk-check'];
  const REVIEWED = ['validatePayment', 'checkPaymentRisk', 'resolvePaymentReview'];
  const DECLINED_PAYMENT_END = ['beginPaymentCompensation', 'failPayment', 'notifyPayment'];
  it.each([
    ['onboarding-merchant.json', ['createWallet', 'sendWelcome', 'completeOnboarding'], undefined, []],
    [
      'payment-compensated-credit-merchant.json',
      ['validatePayment', 'debitPayer', 'creditMerchant', 'beginPaymentCompensation', 'reverseMerchantCredit', 'refundPayer', 'failPayment', 'notifyPayment'],
      { status: 'failed', failure: { code: 'injected_fault' }, compensated: ['refund_payer'], notified: true },
      FENCED,
    ],
    [
      'payment-processing-error.json',
      ['validatePayment', 'debitPayer', 'creditMerchant', 'beginPaymentCompensation', 'reverseMerchantCredit', 'refundPayer', 'failPayment', 'notifyPayment'],
      { status: 'failed', failure: { code: 'processing_error' }, compensated: ['refund_payer'], notified: true },
      FENCED,
    ],
    [
      'payment-notify-failed.json',
      ['validatePayment', 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment', 'recordPaymentStep'],
      { status: 'succeeded', failure: null, compensated: [], notified: false },
      FENCED,
    ],
    ['webhook-delivery-gave-up.json', ['deliverWebhook', 'recordWebhookFailed'], { status: 'failed' }, []],
    [
      'transfer-risk-declined.json',
      ['validateTransfer', 'checkTransferRisk', 'beginTransferCompensation', 'failTransfer', 'notifyTransfer'],
      { status: 'failed', failure: { code: 'risk_declined', rule: 'new_recipient' }, compensated: [] },
      RISK,
    ],
    [
      'payment-risk-declined.json',
      ['validatePayment', 'checkPaymentRisk', ...DECLINED_PAYMENT_END],
      { status: 'failed', failure: { code: 'risk_declined', rule: 'blocklist' }, compensated: [] },
      RISK,
    ],
    [
      'payment-review-approved.json',
      [...REVIEWED, 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment'],
      { status: 'succeeded', failure: null, compensated: [], notified: true },
      RISK,
    ],
    ['payment-review-declined.json', [...REVIEWED, ...DECLINED_PAYMENT_END], { status: 'failed', failure: { code: 'risk_declined', rule: 'review_declined' } }, RISK],
    ['payment-review-timed-out.json', [...REVIEWED, ...DECLINED_PAYMENT_END], { status: 'failed', failure: { code: 'risk_declined', rule: 'review_timeout' } }, RISK],
  ] as const)('when %s is read, then it recorded the path its name says', (file, activities, outcome, patches) => {
    const { history } = recordedHistories().find((recorded) => recorded.file === file) ?? {};
    const events = (history as { events?: RecordedEvent[] } | undefined)?.events ?? [];
    expect(events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(activities);
    // Money sagas recorded by today's code took the fencing patch (and the risk check's); older recordings replay the unpatched paths.
    expect(patchesOf(events)).toEqual(patches);
    const payload = events.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
    expect(payload).toBeDefined();
    if (outcome) expect(JSON.parse(Buffer.from(payload ?? '', 'base64').toString('utf8'))).toMatchObject(outcome);
  });

  it('when the payment and transfer histories recorded before the risk check are read, then they have neither its step nor its patch, so their replay proves the path without it', () => {
    const older = recordedHistories().filter(({ file }) => /^(payment|transfer)-/.test(file) && !/risk|review/.test(file));
    expect(older.map(({ file }) => file)).toEqual(expect.arrayContaining(['payment-succeeded.json', 'payment-refused-insufficient-funds.json', 'transfer-succeeded.json']));
    for (const { history } of older) {
      const events = (history as { events: RecordedEvent[] }).events;
      expect(patchesOf(events)).not.toContain('risk-check');
      expect(events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).not.toEqual(
        expect.arrayContaining(['checkPaymentRisk']),
      );
    }
  });

  it('when the payment whose credit_merchant keeps failing was recorded, then the step was tried as often as its retry policy allows', () => {
    const { history } = recordedHistories().find((recorded) => recorded.file === 'payment-processing-error.json') ?? {};
    const events = (history as { events?: RecordedEvent[] } | undefined)?.events ?? [];
    const credit = events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'creditMerchant');
    const attempts = events.flatMap((event) =>
      event.activityTaskStartedEventAttributes?.scheduledEventId === credit?.eventId ? [event.activityTaskStartedEventAttributes?.attempt] : [],
    );
    expect({ maximumAttempts: credit?.activityTaskScheduledEventAttributes?.retryPolicy?.maximumAttempts, attempts }).toEqual({ maximumAttempts: 5, attempts: [5] });
  });

  it.each(recordedHistories().map(({ file, history }) => [file, history] as const))(
    'when %s is replayed on the current workflow code, then it replays without a determinism error',
    async (file, history) => {
      await expect(Worker.runReplayHistory(replayOptions(), history, file)).resolves.toBeUndefined();
    },
  );

  it('when the histories recorded before fencing are read, then they lack its patch, so their replay proves the unpatched path', () => {
    const older = recordedHistories().filter(({ file }) => ['payment-succeeded.json', 'payment-compensated-write-ledger.json', 'transfer-compensated-write-ledger.json'].includes(file));
    expect(older).toHaveLength(3);
    for (const { history } of older) expect(patchesOf((history as { events: RecordedEvent[] }).events)).toEqual([]);
  });

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

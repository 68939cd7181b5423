import type { ReconciliationReport } from '../../store/reconciliation';
import { deliveryViolations, netZeroViolations, reconciliationViolations, recordViolations, sagaJournalViolations, unknownRows, type DeliveryCounts } from './invariants';
import type { Answer, OperationRecord } from './traffic';

function cleanReport(): ReconciliationReport {
  return {
    ok: true,
    sumOfAllAccounts: 0,
    unbalancedJournals: 0,
    walletsOutOfSync: 0,
    negativeUserWallets: 0,
    stuckSagas: 0,
    clearingMismatch: [],
    clearingShardMismatch: [],
    heldMismatch: [],
    offendingSagas: [],
    samples: { unbalancedJournals: [], walletsOutOfSync: [], negativeUserWallets: [], stuckSagas: [] },
    checkedAt: '2026-12-01T00:00:00.000Z',
  };
}

describe('reconciliationViolations', () => {
  it('when the report is clean, then nothing is violated', () => {
    expect(reconciliationViolations(cleanReport(), null, true)).toEqual([]);
  });

  it('when every check fails, then each becomes a violation of its own, in the fault’s slot', () => {
    const report: ReconciliationReport = {
      ...cleanReport(),
      ok: false,
      sumOfAllAccounts: 5,
      unbalancedJournals: 1,
      walletsOutOfSync: 1,
      negativeUserWallets: 1,
      stuckSagas: 1,
      clearingMismatch: [{ currency: 'USD', clearingBalance: 5, sagasInFlight: 0 }],
      heldMismatch: [{ walletId: 'wal_1', held: 3, unreleasedSagaCredits: 0 }],
      offendingSagas: ['pay_1'],
      samples: { unbalancedJournals: ['jnl_1'], walletsOutOfSync: ['wal_2'], negativeUserWallets: ['wal_3'], stuckSagas: ['payment-pay_2'] },
    };

    const found = reconciliationViolations(report, 'row-lock', true);

    expect(found.map((violation) => violation.check)).toEqual(['sumOfAllAccounts', 'unbalancedJournals', 'walletsOutOfSync', 'negativeUserWallets', 'clearing', 'clearing', 'sagaJournals', 'unfinishedSagas']);
    expect(found.every((violation) => violation.fault === 'row-lock')).toBe(true);
    expect(found[1]?.detail).toContain('jnl_1');
  });

  it('when sagas are in flight during the run, then they are not counted as stuck', () => {
    expect(reconciliationViolations({ ...cleanReport(), stuckSagas: 2 }, null, false)).toEqual([]);
  });
});

describe('sagaJournalViolations', () => {
  const keys = (...list: string[]) => new Set(list);

  it('when a payment succeeded with both money steps and no compensation, then it is whole', () => {
    expect(sagaJournalViolations([{ kind: 'payment', id: 'pay_1', status: 'succeeded' }], keys('pay_1:debit_payer', 'pay_1:credit_merchant'))).toEqual([]);
  });

  it('when a payment succeeded without its credit, or with a compensation, then it is a violation', () => {
    const found = sagaJournalViolations(
      [
        { kind: 'payment', id: 'pay_1', status: 'succeeded' },
        { kind: 'payment', id: 'pay_2', status: 'succeeded' },
      ],
      keys('pay_1:debit_payer', 'pay_2:debit_payer', 'pay_2:credit_merchant', 'pay_2:refund_payer'),
    );
    expect(found.map((violation) => [violation.check, violation.detail.split(' ')[1]])).toEqual([
      ['sagaJournals', 'pay_1'],
      ['sagaJournals', 'pay_2'],
    ]);
  });

  it('when a failed transfer has each posted step compensated (or posted nothing), then it is net zero', () => {
    const sagas = [
      { kind: 'transfer' as const, id: 'trf_1', status: 'failed' },
      { kind: 'transfer' as const, id: 'trf_2', status: 'failed' },
    ];
    expect(sagaJournalViolations(sagas, keys('trf_1:debit_sender', 'trf_1:refund_sender'))).toEqual([]);
  });

  it('when a failed refund kept a step without its compensation, then it is a violation; one in flight is unfinished', () => {
    const found = sagaJournalViolations(
      [
        { kind: 'refund', id: 'ref_1', status: 'failed' },
        { kind: 'refund', id: 'ref_2', status: 'processing' },
      ],
      keys('ref_1:debit_merchant', 'ref_1:credit_payer', 'ref_1:reverse_payer_credit'),
    );
    expect(found.map((violation) => violation.check)).toEqual(['sagaJournals', 'unfinishedSagas']);
    expect(found[0]?.detail).toContain('debit_merchant');
  });
});

describe('netZeroViolations', () => {
  it('when a failed saga left every account at 0, then nothing is violated; a net left on an account is a violation naming it', () => {
    expect(netZeroViolations([{ sagaId: 'pay_1', accountId: 'wal_1', net: 0 }])).toEqual([]);
    const found = netZeroViolations([{ sagaId: 'pay_2', accountId: 'acc_clearing_usd', net: -300 }]);
    expect(found.map((violation) => violation.check)).toEqual(['sagaJournals']);
    expect(found[0]?.detail).toBe('failed saga pay_2 left -300 on acc_clearing_usd');
  });
});

function answer(overrides: Partial<Answer> = {}): Answer {
  return { status: 201, resourceId: 'pay_1', resourceStatus: 'succeeded', failureCode: null, errorCode: null, replayed: false, ...overrides };
}

function record(overrides: Partial<OperationRecord> = {}): OperationRecord {
  return { seq: 1, kind: 'payment', expectation: 'accepted', fault: 'api-kill', key: 'k-1', path: '/v1/payments', body: {}, headers: {}, token: 't', answers: [answer()], retries: 0, http5xx: 0, http500: 0, http503: 0, http503WithoutRetryAfter: 0, gaveUp: false, ...overrides };
}

const FINAL_SUCCEEDED = { status: 200, resourceStatus: 'succeeded', failureCode: null };

describe('recordViolations', () => {
  it('when a payment was answered once and reads back as it was answered, then nothing is violated', () => {
    expect(recordViolations(record(), FINAL_SUCCEEDED)).toEqual([]);
  });

  it('when replays name the same resource and say so, then nothing is violated', () => {
    const replays = [answer(), answer({ replayed: true }), answer({ status: 202, resourceStatus: 'processing', replayed: true })];
    expect(recordViolations(record({ answers: replays }), FINAL_SUCCEEDED)).toEqual([]);
  });

  it('when two answers of one key name two resources, both unmarked, then both are replay violations', () => {
    const found = recordViolations(record({ answers: [answer(), answer({ resourceId: 'pay_2' })] }), FINAL_SUCCEEDED);
    expect(found.map((violation) => violation.check)).toEqual(['replays', 'replays']);
    expect(found[0]?.fault).toBe('api-kill');
  });

  it('when an answer said succeeded and GET says failed, then the API contradicts itself', () => {
    const found = recordViolations(record(), { status: 200, resourceStatus: 'failed', failureCode: 'processing_error' });
    expect(found.map((violation) => violation.check)).toEqual(['apiStatus']);
  });

  it('when the resource is still processing at the end, then it is unfinished', () => {
    const found = recordViolations(record({ answers: [answer({ status: 202, resourceStatus: 'pending' })] }), { status: 200, resourceStatus: 'processing', failureCode: null });
    expect(found.map((violation) => violation.check)).toEqual(['unfinishedSagas']);
  });

  it('when a drilled payment ended succeeded, or an unaffordable one failed for another reason, then the expectation is violated', () => {
    expect(recordViolations(record({ expectation: 'injected_fault', answers: [answer({ status: 202, resourceStatus: 'pending' })] }), FINAL_SUCCEEDED).map((violation) => violation.check)).toEqual(['apiStatus']);
    expect(recordViolations(record({ expectation: 'insufficient_funds', answers: [answer({ resourceStatus: 'failed', failureCode: 'insufficient_funds' })] }), { status: 200, resourceStatus: 'failed', failureCode: 'insufficient_funds' })).toEqual([]);
  });

  it('when bad input was refused with 400, then nothing is violated; when it created a resource, then it is', () => {
    const refused = answer({ status: 400, resourceId: null, resourceStatus: null, errorCode: 'validation_error' });
    expect(recordViolations(record({ expectation: 'bad_input', answers: [refused] }), undefined)).toEqual([]);
    expect(recordViolations(record({ expectation: 'bad_input' }), undefined).map((violation) => violation.check)).toEqual(['refusals']);
    expect(recordViolations(record({ expectation: 'unknown_recipient', answers: [answer({ status: 404, resourceId: null, errorCode: 'not_found' })] }), undefined)).toEqual([]);
  });

  it('when the client never got an answer, or an accepted request was refused, then the API failed it', () => {
    expect(recordViolations(record({ answers: [], gaveUp: true }), undefined).map((violation) => violation.detail)).toEqual([expect.stringContaining('never answered')]);
    expect(recordViolations(record({ answers: [answer({ status: 422, resourceId: null, errorCode: 'idempotency_key_reused' })] }), undefined).map((violation) => violation.check)).toEqual(['apiStatus']);
  });
});

describe('unknownRows', () => {
  it('when every row is named by an answer, then nothing is violated; a row no answer names is a duplicate', () => {
    expect(unknownRows('payment', ['pay_1', 'pay_2'], new Set(['pay_1', 'pay_2']))).toEqual([]);
    const found = unknownRows('payment', ['pay_1', 'pay_3'], new Set(['pay_1']));
    expect(found.map((violation) => violation.check)).toEqual(['replays']);
    expect(found[0]?.detail).toContain('pay_3');
  });
});

describe('deliveryViolations', () => {
  const delivered: DeliveryCounts = {
    emailsPending: 0,
    emailsFailed: 0,
    emailsSent: 10,
    smtpReceived: 11,
    webhooksPending: 0,
    webhooksFailed: 0,
    webhooksDelivered: 4,
    webhooksReceived: 4,
    sagasWithoutNotification: [],
  };

  it('when everything went out (an e-mail sent twice is at-least-once), then nothing is violated', () => {
    expect(deliveryViolations(delivered)).toEqual([]);
  });

  it.each([
    [{ emailsPending: 1 }, 'e-mails still pending'],
    [{ smtpReceived: 9 }, 'the SMTP sink received 9'],
    [{ webhooksFailed: 1 }, 'webhook events still pending'],
    [{ webhooksReceived: 3 }, 'the receiver accepted 3'],
    [{ sagasWithoutNotification: ['pay_9'] }, 'pay_9'],
  ])('when %j, then it is a notifications violation', (change, message) => {
    const found = deliveryViolations({ ...delivered, ...change });
    expect(found.map((violation) => violation.check)).toEqual(['notifications']);
    expect(found[0]?.detail).toContain(message);
  });
});

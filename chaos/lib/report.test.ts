import type { MachineInfo } from '../../bench/lib/machine';
import { CHECKS, type CheckName } from './invariants';
import { parseChaosOptions } from './options';
import { emptyTraffic, passed, renderReport, type ChaosResult, type FaultResult } from './report';

const MACHINE: MachineInfo = {
  cores: 2,
  cpuModel: 'Test CPU',
  memoryBytes: 8 * 2 ** 30,
  node: 'v20.0.0',
  temporalCli: '1.9.1',
  temporalServer: '1.32.0',
  database: '10.11.19-MariaDB',
  gitCommit: 'abc123',
};

function result(overrides: Partial<ChaosResult> = {}): ChaosResult {
  const traffic = { ...emptyTraffic(), operations: { payment: 10, transfer: 5, refund: 2, topup: 3 }, refusals: 1, retried: 4, http5xx: 3, http503: 3 };
  return {
    command: 'npm run chaos',
    date: '2026-12-01T20:00:00.000Z',
    machine: MACHINE,
    settings: parseChaosOptions([]),
    wallTimeS: 400,
    warmUp: { traffic: emptyTraffic(), violations: 0 },
    faults: [
      { fault: 'api-kill', startedAtS: 10, note: '8 payments in flight at the kill', apiRecoveryMs: 1_500, backlogRecoveryMs: 4_250, traffic, violations: 0 },
      { fault: 'database-restart', startedAtS: 40, note: 'MariaDB down 3.0 s', apiRecoveryMs: null, backlogRecoveryMs: null, traffic: emptyTraffic(), violations: 0 },
    ],
    samples: { taken: 60, failed: 1 },
    readBack: 900,
    replayed: 60,
    deliveries: { emailsSent: 120, smtpReceived: 121, webhooksDelivered: 30, webhookRequestsAccepted: 30, drainedMs: 2_000 },
    violationsByCheck: Object.fromEntries(Object.keys(CHECKS).map((check) => [check, 0])) as Record<CheckName, number>,
    violations: [],
    ...overrides,
  };
}

describe('renderReport', () => {
  it('when nothing was violated, then the report says so and has a row per fault with its operations and recovery times', () => {
    const markdown = renderReport(result());

    expect(passed(result())).toBe(true);
    expect(markdown).toContain('**No invariant was violated. No answer was 500.**');
    expect(markdown).toContain('`npm run chaos`');
    expect(markdown).toContain('2 cores (Test CPU), 8.0 GiB');
    expect(markdown).toContain('120 e-mails sent (the SMTP sink received 121), 30 webhook events delivered (the receiver accepted 30 requests)');
    expect(markdown).toContain('| api-kill | 10 s | 8 payments in flight at the kill | 10 | 5 | 2 | 3 | 1 | 0 | 4 (3) | 0 | 3 (0) | 0 | 1.5 s | 4.3 s |');
    expect(markdown).toContain('| database-restart | 40 s | MariaDB down 3.0 s | 0 | 0 | 0 | 0 | 0 | 0 | 0 (0) | 0 | 0 (0) | 0 | not within the window | not within the window |');
    for (const description of Object.values(CHECKS)) expect(markdown).toContain(`| ${description} | 0 |`);
    expect(markdown).not.toContain('## Violations');
  });

  it('when invariants were violated, then the count leads and the violations are listed', () => {
    const violations = [{ check: 'sumOfAllAccounts', fault: 'api-kill' as const, detail: 'the accounts sum to 5' }];
    const markdown = renderReport(result({ violations, violationsByCheck: { ...result().violationsByCheck, sumOfAllAccounts: 1 } }));

    expect(passed(result({ violations }))).toBe(false);
    expect(markdown).toContain('**1 violations.**');
    expect(markdown).toContain('| invariant | violations |');
    expect(markdown).toContain('| the sum over all accounts is 0 | 1 |');
    expect(markdown).toContain('- sumOfAllAccounts (api-kill): the accounts sum to 5');
  });

  it.each([
    ['one answer 500 in a fault window', { http5xx: 1, http500: 1 }, '**1 answers 500.**', '| 0 | 0 | 0 (1) | 1 | 0 (0) |'],
    ['one answer 500 before the first fault', null, '**1 answers 500.**', '| none (warm-up) | 0 s | no fault | 0 | 0 | 0 | 0 | 0 | 0 | 0 (1) | 1 | 0 (0) |'],
    ['one 503 without Retry-After', { http5xx: 1, http503: 1, http503WithoutRetryAfter: 1 }, '**1 answers 503 without Retry-After.**', '| 0 | 0 | 0 (1) | 0 | 1 (1) |'],
  ])('when there is %s and no violation, then the run fails and the report says why', (_what, faultTraffic, verdict, cells) => {
    const base = result();
    const [first, second] = base.faults as [FaultResult, FaultResult];
    const failing =
      faultTraffic === null
        ? result({ warmUp: { traffic: { ...emptyTraffic(), http5xx: 1, http500: 1 }, violations: 0 } })
        : result({ faults: [first, { ...second, traffic: { ...emptyTraffic(), ...faultTraffic } }] });
    const markdown = renderReport(failing);

    expect(passed(failing)).toBe(false);
    expect(markdown).toContain(verdict);
    expect(markdown).toContain(cells);
    expect(markdown).not.toContain('No invariant was violated');
  });

  it('when 503s carried Retry-After, then they are counted apart and the run passes', () => {
    const base = result();
    const [first, second] = base.faults as [FaultResult, FaultResult];
    const outage = result({ faults: [first, { ...second, traffic: { ...emptyTraffic(), retried: 7, http5xx: 7, http503: 7 } }] });

    expect(passed(outage)).toBe(true);
    expect(renderReport(outage)).toContain('| database-restart | 40 s | MariaDB down 3.0 s | 0 | 0 | 0 | 0 | 0 | 0 | 7 (7) | 0 | 7 (0) | 0 |');
  });
});

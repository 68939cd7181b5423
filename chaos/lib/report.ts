import type { MachineInfo } from '../../bench/lib/machine';
import { CHECKS, type CheckName, type Violation } from './invariants';
import type { ChaosOptions } from './options';
import { FAULT_DESCRIPTIONS, type FaultName } from './schedule';
import { OPERATION_KINDS, type OperationKind } from './traffic';

/** What the traffic did in one slot (before the first fault, or one fault and its recovery window). */
export interface SlotTraffic {
  operations: Record<OperationKind, number>;
  /** Requests the API or the saga was expected to refuse (insufficient funds, bad input, unknown recipient). */
  refusals: number;
  /** Requests that carried the fault drill. */
  drilled: number;
  /** Requests sent again with their key after a broken connection, a timeout or a 5xx. */
  retried: number;
  http5xx: number;
  /** Answers 500 (of the 5xx): a bug by the contract, so the run fails on any. */
  http500: number;
  /** Answers 503 (of the 5xx): an outage answered as the contract says, with `Retry-After`. */
  http503: number;
  /** 503s without a `Retry-After` the client can read: the run fails on any. */
  http503WithoutRetryAfter: number;
}

/** One fault as it happened. */
export interface FaultResult {
  fault: FaultName;
  /** Seconds after the traffic started. */
  startedAtS: number;
  note: string;
  /** From the end of the fault until /readyz answered 200; null if it never did within the window. */
  apiRecoveryMs: number | null;
  /** From the end of the fault until every saga created before that end was final; null if not within the window. */
  backlogRecoveryMs: number | null;
  traffic: SlotTraffic;
  violations: number;
}

/** Everything `npm run chaos` found, as the report shows it. */
export interface ChaosResult {
  command: string;
  date: string;
  machine: MachineInfo;
  settings: ChaosOptions;
  /** Wall time of the whole run, stack start to checks done. */
  wallTimeS: number;
  warmUp: { traffic: SlotTraffic; violations: number };
  faults: FaultResult[];
  /** Ledger samples taken during the traffic, and those a fault made fail (the database down). */
  samples: { taken: number; failed: number };
  /** Resources read back at the end, and keys replayed after the fact. */
  readBack: number;
  replayed: number;
  /** What went out once the faults stopped: at-least-once, so a receiver may count more than was recorded. */
  deliveries: { emailsSent: number; smtpReceived: number; webhooksDelivered: number; webhookRequestsAccepted: number; drainedMs: number | null };
  violationsByCheck: Record<CheckName, number>;
  violations: Violation[];
}

/** A slot's traffic with nothing in it. */
export function emptyTraffic(): SlotTraffic {
  return { operations: { payment: 0, transfer: 0, refund: 0, topup: 0 }, refusals: 0, drilled: 0, retried: 0, http5xx: 0, http500: 0, http503: 0, http503WithoutRetryAfter: 0 };
}

function seconds(ms: number | null): string {
  return ms === null ? 'not within the window' : `${(ms / 1_000).toFixed(1)} s`;
}

function trafficCells(traffic: SlotTraffic): string {
  const operations = OPERATION_KINDS.map((kind) => String(traffic.operations[kind]));
  return [
    ...operations,
    String(traffic.refusals),
    String(traffic.drilled),
    `${traffic.retried} (${traffic.http5xx})`,
    String(traffic.http500),
    `${traffic.http503} (${traffic.http503WithoutRetryAfter})`,
  ].join(' | ');
}

/** What the answers broke of the contract over the whole run: 500s, and 503s that do not say when to come back. */
export function contractBreaches(result: Pick<ChaosResult, 'warmUp' | 'faults'>): { http500: number; http503WithoutRetryAfter: number } {
  const slots = [result.warmUp.traffic, ...result.faults.map((fault) => fault.traffic)];
  return {
    http500: slots.reduce((sum, traffic) => sum + traffic.http500, 0),
    http503WithoutRetryAfter: slots.reduce((sum, traffic) => sum + traffic.http503WithoutRetryAfter, 0),
  };
}

/** Is every check clean, and was no answer a 500 or a 503 without `Retry-After`? */
export function passed(result: Pick<ChaosResult, 'violations' | 'warmUp' | 'faults'>): boolean {
  const breaches = contractBreaches(result);
  return result.violations.length === 0 && breaches.http500 === 0 && breaches.http503WithoutRetryAfter === 0;
}

/** The report's verdict line: what failed, or that nothing did. */
function verdict(result: ChaosResult): string {
  if (passed(result)) return 'No invariant was violated. No answer was 500.';
  const breaches = contractBreaches(result);
  const failures = [
    ...(result.violations.length > 0 ? [`${result.violations.length} violations`] : []),
    ...(breaches.http500 > 0 ? [`${breaches.http500} answers 500`] : []),
    ...(breaches.http503WithoutRetryAfter > 0 ? [`${breaches.http503WithoutRetryAfter} answers 503 without Retry-After`] : []),
  ];
  return `${failures.join(', ')}.`;
}

/** The report as Markdown: docs/reliability.md is this, written by the run. */
export function renderReport(result: ChaosResult): string {
  const { machine, settings } = result;
  const lines = [
    '# Reliability: money under fire',
    '',
    `Written by \`${result.command}\` on ${result.date}; do not edit by hand, run it again. ` +
      `**${verdict(result)}**`,
    '',
    'The run starts its own stack (private MariaDB behind a latency proxy, the Temporal dev server on a file ' +
      'database, the API, payments and notifications workers as separate processes, an SMTP sink and a webhook ' +
      'receiver), drives payments, transfers, refunds and top-ups among many wallets (some refused), injects ' +
      'the faults below one after another, samples the ledger invariants while it runs and checks them all at the end.',
    '',
    '## Machine and settings',
    '',
    `- ${machine.cores} cores (${machine.cpuModel}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB; node ${machine.node}; ` +
      `Temporal CLI ${machine.temporalCli ?? '?'} (server ${machine.temporalServer ?? '?'}); ${machine.database ?? 'database ?'}; commit ${machine.gitCommit ?? '?'}`,
    `- ${settings.durationS} s of traffic, seed ${settings.seed}, ${settings.customers} customers, ${settings.merchants} merchants, ` +
      `${settings.concurrency} client loops, ${settings.paymentsWorkers} payments workers; wall time ${result.wallTimeS} s`,
    `- ${result.samples.taken} ledger samples during the traffic (${result.samples.failed} could not run while the database was down); ` +
      `${result.readBack} resources read back at the end; ${result.replayed} keys replayed after the fact`,
    `- Deliveries, all out ${seconds(result.deliveries.drainedMs)} after the checks began waiting for them: ${result.deliveries.emailsSent} e-mails sent ` +
      `(the SMTP sink received ${result.deliveries.smtpReceived}), ${result.deliveries.webhooksDelivered} webhook events delivered ` +
      `(the receiver accepted ${result.deliveries.webhookRequestsAccepted} requests); delivery is at-least-once, so a receiver may count a few twice`,
    '',
    '## Faults × operations × violations',
    '',
    'Operations are those started in the fault\'s slot (the fault and its recovery window). "Retried (5xx)": requests sent again with their ' +
      'key after a broken connection, a timeout or a 5xx (of which 5xx). "500": answers 500, which the contract keeps for bugs: the run ' +
      'fails on any, in every window. "503 (no Retry-After)": answers 503 to an outage (of which without a `Retry-After` header, ' +
      'which also fails the run); the client waits as long as `Retry-After` asks (at most 5 s) and sends the request again with its key. ' +
      'Recovery: from the end of the fault until `/readyz` answers 200 (API), and until every saga created before that moment is final ' +
      '(backlog). A 503 or a broken connection is not an invariant violation: the client sends the request again with its key until ' +
      'it is answered, and every check below must still hold.',
    '',
    '| fault | at | what happened | payments | transfers | refunds | top-ups | refusals | drilled | retried (5xx) | 500 | 503 (no Retry-After) | violations | API back | backlog drained |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| none (warm-up) | 0 s | no fault | ${trafficCells(result.warmUp.traffic)} | ${result.warmUp.violations} | — | — |`,
    ...result.faults.map(
      (fault) =>
        `| ${fault.fault} | ${fault.startedAtS} s | ${fault.note} | ${trafficCells(fault.traffic)} | ${fault.violations} | ${seconds(fault.apiRecoveryMs)} | ${seconds(fault.backlogRecoveryMs)} |`,
    ),
    '',
    '## The faults',
    '',
    ...result.faults.map((fault) => `- \`${fault.fault}\`: ${FAULT_DESCRIPTIONS[fault.fault]}.`),
    '',
    '## Invariants',
    '',
    '| invariant | violations |',
    '| --- | --- |',
    ...(Object.keys(CHECKS) as CheckName[]).map((check) => `| ${CHECKS[check]} | ${result.violationsByCheck[check]} |`),
    '',
  ];
  if (result.violations.length > 0) {
    lines.push('## Violations (first 50)', '', ...result.violations.slice(0, 50).map((violation) => `- ${violation.check} (${violation.fault ?? 'end'}): ${violation.detail}`), '');
  }
  return `${lines.join('\n')}`;
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createPaymentActivities, createNotificationQueueActivities } from '../activities';
import { temporalDeliveryStarter } from '../activities/delivery-starter';
import { insertPendingPayment } from '../store/payment-records';
import { insertPendingRefund } from '../store/refund-records';
import { insertPendingTransfer } from '../store/transfer-records';
import { startOnboarding, startPayment, startRefund, startTransfer } from '../infra/sagas';
import { refundWorkflowId, transferWorkflowId } from '../domain/workflow-ids';
import { insertUser } from '../api/users';
import { findWalletByUser } from '../store/wallets';
import { EMAIL_RETRY_POLICY, WEBHOOK_RETRY_POLICY, withRetryOverride } from '../domain/deliveries';
import { newId } from '../domain/ids';
import { DEFAULT_RISK_RULES, REVIEW_PAYMENT_UPDATE, type ReviewPaymentInput } from '../domain/risk';
import { SagaStatusKey } from '../domain/search-attributes';
import { addBlocklistEntry } from '../store/risk';
import { feeRoundHalfUp } from '../domain/money';
import type { Role } from '../domain/types';
import type { Knex } from 'knex';
import { createDatabase } from '../infra/database';
import { createSmtpMailer } from '../infra/mailer';
import { startMariaDb } from './lib/mariadb';
import { prepareDatabase } from './lib/migrations';
import { recordDeliveryHistories, startDeliveryRecordingKit } from './lib/record-deliveries';
import { startTemporalDevServer } from './lib/temporal-server';

/**
 * Records real workflow histories into test/histories/ for the replay tests.
 * Run it when a workflow changes on purpose (and keep the old files: running
 * sagas recorded before a change must still replay): `npx tsx scripts/record-histories.ts`.
 * Name files to write only those (`… email-delivery-retried.json`); the others are run, not written.
 */
/** Stack traces in a history name files by absolute path: keep them relative to the checkout, so no machine's layout is committed. */
function withoutCheckoutPath(json: string): string {
  return json.split(`${resolve(__dirname, '..')}/`).join('');
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-record-'));
  const database = await startMariaDb({ dataDir: join(root, 'mariadb'), ephemeral: true });
  const temporal = await startTemporalDevServer({ headless: true, logDir: root });
  const currencies = ['USD', 'EUR', 'GBP', 'INR'];
  await prepareDatabase(database.databaseUrl, currencies);
  const db = createDatabase(database.databaseUrl, 5);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const queues = { paymentsTaskQueue: 'record-payments', notificationsTaskQueue: 'record-notifications' };
  // Payments whose credit_merchant keeps failing (a transient fault that outlasts the retries:
  // `processing_error`), and payments whose notify step fails for good.
  const creditKeepsFailing = new Set<string>();
  const notifyRefused = new Set<string>();
  // A first payment (or transfer) above 1 500 to someone new goes to review (a transfer is declined);
  // the other recordings stay below it. Reviews time out after 5 s, so the timed-out recording is short.
  const risk = { ...DEFAULT_RISK_RULES, newRecipientReviewAmount: 1_500, reviewTimeoutMs: 5_000 };
  const paymentActivities = createPaymentActivities({ db, paymentDailyLimit: 1_000_000, risk });
  const payments = await Worker.create({
    connection: workerConnection,
    taskQueue: queues.paymentsTaskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: {
      ...paymentActivities,
      creditMerchant: (input: { paymentId: string }) =>
        creditKeepsFailing.has(input.paymentId) ? Promise.reject(new Error('recorded: the database keeps timing out')) : paymentActivities.creditMerchant(input),
    },
  });
  const kit = await startDeliveryRecordingKit();
  // Retries of deliveries in fractions of a second, so the retried recordings take no time.
  const deliveryRetry = { initialIntervalMs: 100, maximumIntervalMs: 500 };
  const deliveries = temporalDeliveryStarter(client, {
    workflowTaskQueue: queues.paymentsTaskQueue,
    notificationsTaskQueue: queues.notificationsTaskQueue,
    emailRetry: withRetryOverride(EMAIL_RETRY_POLICY, deliveryRetry),
    webhookRetry: withRetryOverride(WEBHOOK_RETRY_POLICY, deliveryRetry),
  });
  const notificationActivities = createNotificationQueueActivities({
    db,
    mailer: createSmtpMailer({ smtpUrl: kit.smtpUrl, from: 'SagaPay <notifications@sagapay.localhost>' }),
    deliveries,
    allowPrivateWebhookAddresses: true,
  });
  const notifications = await Worker.create({
    connection: workerConnection,
    taskQueue: queues.notificationsTaskQueue,
    activities: {
      ...notificationActivities,
      notifyPayment: (input: { paymentId: string }) =>
        notifyRefused.has(input.paymentId)
          ? Promise.reject(ApplicationFailure.nonRetryable('recorded: the notifications store refuses the payment', 'RecordedNotifyFailure'))
          : notificationActivities.notifyPayment(input),
    },
  });
  const only = process.argv.slice(2);
  try {
    await payments.runUntil(
      notifications.runUntil(async () => {
        const record = async (workflowId: string, file: string) => {
          const handle = client.workflow.getHandle(workflowId);
          await handle.result();
          if (only.length > 0 && !only.includes(file)) return;
          const path = join(__dirname, '..', 'test', 'histories', file);
          writeFileSync(path, `${withoutCheckoutPath(historyToJSON(await handle.fetchHistory()))}\n`);
          console.log(`recorded ${path}`);
        };
        const customer = await newUser(db, 'customer', 'Recorded Customer');
        await startOnboarding(client, queues, { userId: customer.id, role: 'customer', currency: 'USD', promoCredit: 10_000 });
        await record(`onboarding-${customer.id}`, 'onboarding-customer.json');

        const merchant = await newUser(db, 'merchant', 'Acme');
        await startOnboarding(client, queues, { userId: merchant.id, role: 'merchant', currency: 'USD', promoCredit: 0 });
        await record(`onboarding-${merchant.id}`, 'onboarding-merchant.json');
        for (const [file, how] of [
          ['payment-succeeded.json', null],
          ['payment-compensated-write-ledger.json', 'write_ledger'],
          ['payment-compensated-credit-merchant.json', 'credit_merchant'],
          ['payment-refused-insufficient-funds.json', 'insufficient_funds'],
          ['payment-processing-error.json', 'credit_merchant_keeps_failing'],
          ['payment-notify-failed.json', 'notify_refused'],
        ] as const) {
          const amount = how === 'insufficient_funds' ? 1_000_000 : 1_234;
          const faultStep = how === 'write_ledger' || how === 'credit_merchant' ? how : null;
          const payment = await insertPayment(db, customer.id, merchant.id, amount, faultStep);
          if (how === 'credit_merchant_keeps_failing') creditKeepsFailing.add(payment.paymentId);
          if (how === 'notify_refused') notifyRefused.add(payment.paymentId);
          await startPayment(client, queues, { ...payment, payerId: customer.id, merchantId: merchant.id, merchantName: merchant.name });
          await record(`payment-${payment.paymentId}`, file);
        }

        const refunded = await insertPayment(db, customer.id, merchant.id, 2_000, null);
        await startPayment(client, queues, { ...refunded, payerId: customer.id, merchantId: merchant.id, merchantName: merchant.name });
        await client.workflow.getHandle(`payment-${refunded.paymentId}`).result();
        for (const [file, faultStep] of [
          ['refund-succeeded.json', null],
          ['refund-compensated-write-ledger.json', 'write_ledger'],
        ] as const) {
          const refundId = newId('ref');
          const refusal = await db.transaction((trx) => insertPendingRefund(trx, { id: refundId, paymentId: refunded.paymentId, amount: 500, reason: 'recorded for replay tests', faultStep }));
          if (refusal) throw new Error(`the recorded refund was refused: ${refusal}`);
          const row = await db('refunds').select('fee_refunded').where({ id: refundId }).first();
          await startRefund(client, queues, {
            refundId,
            paymentId: refunded.paymentId,
            payerId: customer.id,
            merchantId: merchant.id,
            amount: 500,
            feeRefunded: Number(row?.fee_refunded ?? 0),
            currency: 'USD',
          });
          await record(refundWorkflowId(refundId), file);
        }

        const recipient = await newUser(db, 'customer', 'Bea');
        await startOnboarding(client, queues, { userId: recipient.id, role: 'customer', currency: 'USD', promoCredit: 10_000 });
        await client.workflow.getHandle(`onboarding-${recipient.id}`).result();
        for (const [file, faultStep] of [
          ['transfer-succeeded.json', null],
          ['transfer-compensated-write-ledger.json', 'write_ledger'],
          ['transfer-refused-insufficient-funds.json', 'insufficient_funds'],
        ] as const) {
          const amount = faultStep === 'insufficient_funds' ? 1_000_000 : 1_234;
          const transferId = await insertTransfer(db, customer.id, recipient.id, amount, faultStep === 'write_ledger' ? faultStep : null);
          await startTransfer(client, queues, { transferId, senderId: customer.id, recipientId: recipient.id, recipientName: recipient.name, amount, currency: 'USD' });
          await record(transferWorkflowId(transferId), file);
        }

        // The risk check: a declined transfer and payment, and payments whose review was approved, declined or timed out.
        const stranger = await newUser(db, 'customer', 'Cy');
        await startOnboarding(client, queues, { userId: stranger.id, role: 'customer', currency: 'USD', promoCredit: 0 });
        await client.workflow.getHandle(`onboarding-${stranger.id}`).result();
        const risky = await insertTransfer(db, customer.id, stranger.id, 2_000, null);
        await startTransfer(client, queues, { transferId: risky, senderId: customer.id, recipientId: stranger.id, recipientName: stranger.name, amount: 2_000, currency: 'USD' });
        await record(transferWorkflowId(risky), 'transfer-risk-declined.json');
        const admin = await newUser(db, 'admin', 'Recorded Admin');
        for (const [file, decision] of [
          ['payment-risk-declined.json', 'blocklisted'],
          ['payment-review-approved.json', 'approve'],
          ['payment-review-declined.json', 'decline'],
          ['payment-review-timed-out.json', null],
        ] as const) {
          const payer = await newUser(db, 'customer', 'Reviewed Customer');
          await startOnboarding(client, queues, { userId: payer.id, role: 'customer', currency: 'USD', promoCredit: 10_000 });
          await client.workflow.getHandle(`onboarding-${payer.id}`).result();
          if (decision === 'blocklisted') await addBlocklistEntry(db, { kind: 'user', value: payer.id, reason: 'recorded for replay tests', adminId: admin.id });
          const payment = await insertPayment(db, payer.id, merchant.id, decision === 'blocklisted' ? 1_000 : 2_000, null);
          await startPayment(client, queues, { ...payment, payerId: payer.id, merchantId: merchant.id, merchantName: merchant.name });
          const handle = client.workflow.getHandle(`payment-${payment.paymentId}`);
          if (decision === 'approve' || decision === 'decline') {
            for (let polls = 0; (await handle.describe()).typedSearchAttributes.get(SagaStatusKey) !== 'in_review'; polls += 1) {
              if (polls > 400) throw new Error(`payment ${payment.paymentId} never went into review`);
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
            await handle.executeUpdate<unknown, [ReviewPaymentInput]>(REVIEW_PAYMENT_UPDATE, { args: [{ decision, adminId: admin.id }] });
          }
          await record(`payment-${payment.paymentId}`, file);
        }

        await recordDeliveryHistories({ db, client, deliveries, kit, customerId: customer.id, merchantId: merchant.id, record });
      }),
    );
  } finally {
    await kit.stop();
    await workerConnection.close();
    await connection.close();
    await db.destroy();
    await temporal.stop();
    await database.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

async function newUser(db: Knex, role: Role, name: string) {
  return insertUser(db, { email: `${role}.${newId('req').slice(4).toLowerCase()}@example.test`, passwordHash: 'recorded', name, phone: null, role, currency: 'USD' });
}

/** A pending payment row, as POST /v1/payments writes it. */
async function insertPayment(db: Knex, payerId: string, merchantId: string, amount: number, faultStep: string | null) {
  const source = await findWalletByUser(db, payerId, 'USD');
  const target = await findWalletByUser(db, merchantId, 'USD');
  if (!source || !target) throw new Error('the recorded users have no wallets');
  const paymentId = newId('pay');
  const { fee, netAmount } = feeRoundHalfUp(amount, 200);
  await insertPendingPayment(db, {
    id: paymentId,
    payerId,
    sourceWalletId: source.id,
    merchantId,
    merchantWalletId: target.id,
    amount,
    fee,
    netAmount,
    currency: 'USD',
    description: 'recorded for replay tests',
    faultStep,
  });
  return { paymentId, amount, fee, netAmount, currency: 'USD' };
}

/** A pending transfer row, as POST /v1/transfers writes it. */
async function insertTransfer(db: Knex, senderId: string, recipientId: string, amount: number, faultStep: string | null): Promise<string> {
  const source = await findWalletByUser(db, senderId, 'USD');
  const target = await findWalletByUser(db, recipientId, 'USD');
  if (!source || !target) throw new Error('the recorded users have no wallets');
  const transferId = newId('trf');
  await insertPendingTransfer(db, {
    id: transferId,
    senderId,
    fromWalletId: source.id,
    recipientId,
    toWalletId: target.id,
    amount,
    currency: 'USD',
    note: 'recorded for replay tests',
    faultStep,
  });
  return transferId;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});

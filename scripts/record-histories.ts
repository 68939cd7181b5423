import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createPaymentActivities, createNotificationActivities } from '../activities';
import { startOnboarding, startPayment, paymentWorkflowId } from '../api/sagas';
import { insertUser } from '../api/users';
import { findWalletByUser } from '../activities/wallets';
import { newId } from '../domain/ids';
import { feeRoundHalfUp } from '../domain/money';
import type { Role } from '../domain/types';
import type { Knex } from 'knex';
import { createDatabase } from '../infra/database';
import { startMariaDb } from './lib/mariadb';
import { prepareDatabase } from './lib/migrations';
import { startTemporalDevServer } from './lib/temporal-server';

/**
 * Records real workflow histories into test/histories/ for the replay tests.
 * Run it when a workflow changes on purpose (and keep the old files: running
 * sagas recorded before a change must still replay): `npx tsx scripts/record-histories.ts`.
 */
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
  const payments = await Worker.create({
    connection: workerConnection,
    taskQueue: queues.paymentsTaskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createPaymentActivities({ db, paymentDailyLimit: 1_000_000 }),
  });
  const notifications = await Worker.create({
    connection: workerConnection,
    taskQueue: queues.notificationsTaskQueue,
    activities: createNotificationActivities({ db }),
  });
  try {
    await payments.runUntil(
      notifications.runUntil(async () => {
        const record = async (workflowId: string, file: string) => {
          const handle = client.workflow.getHandle(workflowId);
          await handle.result();
          const path = join(__dirname, '..', 'test', 'histories', file);
          writeFileSync(path, `${historyToJSON(await handle.fetchHistory())}\n`);
          console.log(`recorded ${path}`);
        };
        const customer = await newUser(db, 'customer', 'Recorded Customer');
        await startOnboarding(client, queues, { userId: customer.id, role: 'customer', currency: 'USD', promoCredit: 10_000 });
        await record(`onboarding-${customer.id}`, 'onboarding-customer.json');

        const merchant = await newUser(db, 'merchant', 'Acme');
        await startOnboarding(client, queues, { userId: merchant.id, role: 'merchant', currency: 'USD', promoCredit: 0 });
        await client.workflow.getHandle(`onboarding-${merchant.id}`).result();
        for (const [file, faultStep] of [
          ['payment-succeeded.json', null],
          ['payment-compensated-write-ledger.json', 'write_ledger'],
          ['payment-refused-insufficient-funds.json', 'insufficient_funds'],
        ] as const) {
          const amount = faultStep === 'insufficient_funds' ? 1_000_000 : 1_234;
          const payment = await insertPayment(db, customer.id, merchant.id, amount, faultStep === 'write_ledger' ? faultStep : null);
          await startPayment(client, queues, { ...payment, payerId: customer.id, merchantId: merchant.id, merchantName: merchant.name });
          await record(`payment-${payment.paymentId}`, file);
        }
      }),
    );
  } finally {
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
  const now = new Date();
  await db('payments').insert({
    id: paymentId,
    payer_id: payerId,
    source_wallet_id: source.id,
    merchant_id: merchantId,
    merchant_wallet_id: target.id,
    amount,
    fee,
    net_amount: netAmount,
    currency: 'USD',
    description: 'recorded for replay tests',
    status: 'pending',
    failure_code: null,
    failure_message: null,
    fault_step: faultStep,
    workflow_id: paymentWorkflowId(paymentId),
    created_at: now,
    updated_at: now,
  });
  return { paymentId, amount, fee, netAmount, currency: 'USD' };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});

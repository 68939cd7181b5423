import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createPaymentActivities, createNotificationActivities } from '../activities';
import { startOnboarding } from '../api/sagas';
import { insertUser } from '../api/users';
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
        const user = await insertUser(db, {
          email: 'recorded.customer@example.test',
          passwordHash: 'recorded',
          name: 'Recorded Customer',
          phone: null,
          role: 'customer',
          currency: 'USD',
        });
        await startOnboarding(client, queues, { userId: user.id, role: 'customer', currency: 'USD', promoCredit: 10_000 });
        const handle = client.workflow.getHandle(`onboarding-${user.id}`);
        await handle.result();
        const history = await handle.fetchHistory();
        const file = join(__dirname, '..', 'test', 'histories', 'onboarding-customer.json');
        writeFileSync(file, `${historyToJSON(history)}\n`);
        console.log(`recorded ${file}`);
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

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});

/**
 * The production topology `npm run cluster` runs on one machine, declared as data: which
 * processes, how many of each, and in what order they start. Pure, so the tests can check it;
 * scripts/cluster.ts starts exactly what is listed here.
 */

/** The Temporal server version the cluster builds and runs (the one inside the pinned CLI's dev server). */
export const TEMPORAL_SERVER_VERSION = '1.32.0';

/** The Temporal Web UI server version (the UI that the pinned CLI's dev server embeds). */
export const TEMPORAL_UI_VERSION = '2.54.1';

/**
 * History shards are fixed for the life of a cluster's database: they cannot be changed later.
 * 16 spread over two history processes is enough for this machine and shows shards moving.
 */
export const HISTORY_SHARDS = 16;

/** The Temporal services the server binary runs with `start --service <name>`. */
export type TemporalService = 'frontend' | 'history' | 'matching' | 'worker';

/** One Temporal server process and the service it runs. */
export interface TemporalProcess {
  name: string;
  service: TemporalService;
}

/**
 * Each service in its own process, two of history. History first: the frontend and matching
 * find the history hosts through the membership ring, and the worker service needs the frontend.
 */
export const TEMPORAL_PROCESSES: readonly TemporalProcess[] = [
  { name: 'temporal-history-1', service: 'history' },
  { name: 'temporal-history-2', service: 'history' },
  { name: 'temporal-matching', service: 'matching' },
  { name: 'temporal-frontend', service: 'frontend' },
  { name: 'temporal-worker', service: 'worker' },
];

/** What a SagaPay process runs. */
export type SagaPayRole = 'payments-worker' | 'notifications-worker' | 'api';

/** One SagaPay process: its name, its role, and the entry point it runs with `node --import tsx`. */
export interface SagaPayProcess {
  name: string;
  role: SagaPayRole;
  file: string;
}

const ENTRY_POINTS: Readonly<Record<SagaPayRole, string>> = {
  'payments-worker': 'workers/payments.ts',
  'notifications-worker': 'workers/notifications.ts',
  api: 'api/server.ts',
};

/** How many copies of each SagaPay process the cluster runs. */
export const SAGAPAY_REPLICAS: Readonly<Record<SagaPayRole, number>> = {
  'payments-worker': 2,
  'notifications-worker': 1,
  api: 2,
};

/** The SagaPay processes in start order: workers first (the APIs start sagas they run), then the APIs. */
export function sagaPayProcesses(replicas: Readonly<Record<SagaPayRole, number>> = SAGAPAY_REPLICAS): SagaPayProcess[] {
  const order: SagaPayRole[] = ['payments-worker', 'notifications-worker', 'api'];
  return order.flatMap((role) =>
    Array.from({ length: replicas[role] }, (_, index) => ({ name: `${role === 'api' ? 'api' : role.replace('-worker', '')}-${index + 1}`, role, file: ENTRY_POINTS[role] })),
  );
}

/** The names of the database the Temporal services keep their state in, and of their visibility store. */
export const TEMPORAL_DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;

/** The SQL plugin the Temporal server talks to PostgreSQL with, and the schema folders its sql tool applies. */
export const POSTGRES_PLUGIN = 'postgres12';
export const SCHEMA_NAMES = { default: 'postgresql/v12/temporal', visibility: 'postgresql/v12/visibility' } as const;

/** The namespace SagaPay runs in on the cluster, created at start with SagaPay's search attributes. */
export const CLUSTER_NAMESPACE = 'default';

/** How long closed workflows stay readable in that namespace, as the dev server keeps them (its default). */
export const NAMESPACE_RETENTION = '72h';

/** Where the SagaPay processes find the servers of the cluster; the values depend on where each runs. */
export interface SagaPayAddresses {
  databaseUrl: string;
  temporalAddress: string;
  redisUrl: string;
  smtpUrl: string;
}

/**
 * The settings every SagaPay process of the cluster gets, whatever runs it (`npm run cluster` or
 * docker-compose.yml, whose test compares both): the servers, the namespace, the shared rate-limit
 * store, the task queues, and TRUST_PROXY because the APIs sit behind the balancer, which adds
 * X-Forwarded-For, so per-IP rate limits count the client, not the balancer.
 */
export function sagaPayClusterSettings(addresses: SagaPayAddresses): Record<string, string> {
  return {
    DATABASE_URL: addresses.databaseUrl,
    TEMPORAL_ADDRESS: addresses.temporalAddress,
    TEMPORAL_NAMESPACE: CLUSTER_NAMESPACE,
    REDIS_URL: addresses.redisUrl,
    SMTP_URL: addresses.smtpUrl,
    TRUST_PROXY: 'true',
    TASK_QUEUE_PAYMENTS: 'payments',
    TASK_QUEUE_NOTIFICATIONS: 'notifications',
  };
}

/** Every step `npm run cluster` prints a progress line for, in order. */
export const CLUSTER_STEPS = [
  'temporal-binaries',
  'postgresql',
  'temporal-schemas',
  'temporal-services',
  'namespace',
  'temporal-ui',
  'mariadb',
  'migrations',
  'redis',
  'mail-catcher',
  'sagapay-processes',
  'load-balancer',
] as const;

import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** A client and a worker connection to the test run's Temporal server, and the namespace both work in. */
export interface TemporalConnections {
  readonly client: Client;
  readonly workerConnection: NativeConnection;
  readonly namespace: string;
}

/**
 * Opens a client and a worker connection to the Temporal server of jest's global setup
 * before the file's tests and closes them after; read them inside tests (hooks fill them in).
 */
export function useTemporal(): TemporalConnections {
  let connection: Connection | undefined;
  let client: Client | undefined;
  let workerConnection: NativeConnection | undefined;
  // Global setup names it: `default` on the dev server, the cluster tests' own one on the cluster.
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  beforeAll(async () => {
    const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace });
    workerConnection = await NativeConnection.connect({ address });
  });
  afterAll(async () => {
    await connection?.close();
    await workerConnection?.close();
  });
  const opened = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('Temporal connections are open only while the tests run');
    return value;
  };
  return {
    namespace,
    get client() {
      return opened(client);
    },
    get workerConnection() {
      return opened(workerConnection);
    },
  };
}

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLUSTER_TEST_NAMESPACE, CLUSTER_TESTS } from './cluster-tests';
import { CLUSTER_STEPS, SAGAPAY_REPLICAS, sagaPayProcesses, TEMPORAL_PROCESSES } from './cluster-topology';
import { haproxyConfig } from './haproxy';

const PROJECT_ROOT = resolve(__dirname, '..', '..');

describe('the cluster topology', () => {
  test('when the Temporal processes are listed, then each service has its own process and history has two, the first one started first', () => {
    const count = (service: string) => TEMPORAL_PROCESSES.filter((process) => process.service === service).length;
    expect({ frontend: count('frontend'), history: count('history'), matching: count('matching'), worker: count('worker') }).toEqual({ frontend: 1, history: 2, matching: 1, worker: 1 });
    expect(TEMPORAL_PROCESSES[0]?.service).toBe('history');
    expect(new Set(TEMPORAL_PROCESSES.map((process) => process.name)).size).toBe(TEMPORAL_PROCESSES.length);
  });

  test('when the SagaPay processes are listed, then two APIs, two payments workers and one notifications worker run, workers first', () => {
    const processes = sagaPayProcesses();
    expect(processes.map((process) => process.name)).toEqual(['payments-1', 'payments-2', 'notifications-1', 'api-1', 'api-2']);
    expect(SAGAPAY_REPLICAS).toEqual({ 'payments-worker': 2, 'notifications-worker': 1, api: 2 });
    for (const process of processes) expect(existsSync(join(PROJECT_ROOT, process.file))).toBe(true);
  });

  test('when the replicas are changed, then the names follow the counts', () => {
    expect(sagaPayProcesses({ 'payments-worker': 3, 'notifications-worker': 0, api: 1 }).map((process) => process.name)).toEqual(['payments-1', 'payments-2', 'payments-3', 'api-1']);
  });

  test('when the steps are listed, then each is named once', () => {
    expect(new Set(CLUSTER_STEPS).size).toBe(CLUSTER_STEPS.length);
  });
});

describe('the tests that run on the cluster', () => {
  test('when the subset is declared, then every file exists and each one says what it covers', () => {
    for (const test of CLUSTER_TESTS) {
      expect({ file: test.file, exists: existsSync(join(PROJECT_ROOT, test.file)) }).toEqual({ file: test.file, exists: true });
      expect(test.covers.length).toBeGreaterThan(10);
    }
  });

  test('when the subset is declared, then it covers every saga kind, the recovery schedule, reviews and the web wallet', () => {
    const files = CLUSTER_TESTS.map((test) => test.file);
    expect(files).toEqual(
      expect.arrayContaining(['test/payments.test.ts', 'test/transfers.test.ts', 'test/refunds.test.ts', 'test/api.test.ts', 'test/recovery.test.ts', 'test/risk.test.ts', 'test/web-wallet.test.ts']),
    );
    expect(CLUSTER_TEST_NAMESPACE).not.toBe('default');
  });
});

describe('the load balancer configuration', () => {
  const config = haproxyConfig({ port: 8080, backends: [{ name: 'api-1', port: 3001 }, { name: 'api-2', port: 3002 }], healthPath: '/readyz' });

  test('when it is generated, then it listens on loopback and sends requests round robin to every replica', () => {
    expect(config).toContain('bind 127.0.0.1:8080');
    expect(config).toContain('balance roundrobin');
    expect(config).toContain('server api-1 127.0.0.1:3001 check');
    expect(config).toContain('server api-2 127.0.0.1:3002 check');
  });

  test('when it is generated, then replicas are checked on /readyz and clients are named in X-Forwarded-For', () => {
    expect(config).toContain('option httpchk GET /readyz');
    expect(config).toContain('http-check expect status 200');
    expect(config).toContain('option forwardfor');
  });
});

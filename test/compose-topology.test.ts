import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import {
  CLUSTER_NAMESPACE,
  CLUSTER_STEPS,
  HISTORY_SHARDS,
  NAMESPACE_RETENTION,
  POSTGRES_PLUGIN,
  SAGAPAY_REPLICAS,
  sagaPayClusterSettings,
  sagaPayProcesses,
  SCHEMA_NAMES,
  TEMPORAL_DATABASES,
  TEMPORAL_PROCESSES,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
  type SagaPayRole,
} from '../scripts/lib/cluster-topology';
import { BALANCER_HEALTH_PATH, COMPOSE_HAPROXY_CONFIG, composeBalancerInput, haproxyConfig } from '../scripts/lib/haproxy';
import { dynamicConfigYaml } from '../scripts/lib/temporal-config';

/**
 * docker-compose.yml must run the topology `npm run cluster` runs: the same services and the
 * settings that matter, read from the code's own declarations (scripts/lib/cluster-topology.ts and
 * the configuration generators), so a change on either side that the other lacks fails here.
 * There is no Docker engine on our machines: the file is parsed, not run.
 */

const PROJECT_ROOT = resolve(__dirname, '..');

/** The parts of a compose service this test reads. */
interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

function readProjectFile(path: string): string {
  return readFileSync(join(PROJECT_ROOT, path), 'utf8');
}

// `merge: true`: the file shares its blocks with YAML merge keys (`<<: *app`), as Compose reads them.
const compose = parse(readProjectFile('docker-compose.yml'), { merge: true }) as ComposeFile;

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function environmentOf(name: string): Record<string, string> {
  return service(name).environment ?? {};
}

/** Where a service mounts a file of the project (`./path:/target:ro`), or undefined. */
function mountTarget(name: string, projectPath: string): string | undefined {
  const volume = (service(name).volumes ?? []).find((entry) => entry.startsWith(`./${projectPath}:`));
  return volume?.split(':')[1];
}

/** Whether a service waits for another, directly or through the services it waits for. */
function waitsFor(name: string, other: string, seen = new Set<string>()): boolean {
  if (seen.has(name)) return false;
  seen.add(name);
  const direct = Object.keys(service(name).depends_on ?? {});
  return direct.includes(other) || direct.some((next) => waitsFor(next, other, seen));
}

const apiNames = sagaPayProcesses()
  .filter((process) => process.role === 'api')
  .map((process) => process.name);

/**
 * The compose services that stand for each step of `npm run cluster`. Typed by the steps, so a new
 * step fails to compile here until compose has it. APIs are services of their own, named as the
 * native processes (the balancer addresses each); workers are one service per role, with replicas.
 */
const COMPOSE_SERVICES_OF_STEP: Readonly<Record<(typeof CLUSTER_STEPS)[number], readonly string[]>> = {
  // Compose pulls images instead of building binaries.
  'temporal-binaries': [],
  postgresql: ['postgres'],
  'temporal-schemas': ['temporal-schema'],
  'temporal-services': TEMPORAL_PROCESSES.map((process) => process.name),
  namespace: ['temporal-setup'],
  'temporal-ui': ['temporal-ui'],
  mariadb: ['mysql'],
  migrations: ['migrate'],
  redis: ['redis'],
  'mail-catcher': ['mailcatcher'],
  'sagapay-processes': [...new Set(sagaPayProcesses().map((process) => (process.role === 'api' ? process.name : process.role)))],
  'load-balancer': ['haproxy'],
};

function onlyServiceOf(step: (typeof CLUSTER_STEPS)[number]): string {
  const [name, ...others] = COMPOSE_SERVICES_OF_STEP[step];
  if (name === undefined || others.length > 0) throw new Error(`step ${step} has not exactly one service`);
  return name;
}

const frontend = TEMPORAL_PROCESSES.find((process) => process.service === 'frontend')?.name ?? 'no frontend';

describe('docker-compose.yml and the native topology', () => {
  test('when the services are listed, then they are exactly those of the steps of npm run cluster', () => {
    expect(Object.keys(COMPOSE_SERVICES_OF_STEP).sort()).toEqual([...CLUSTER_STEPS].sort());
    expect(Object.keys(compose.services).sort()).toEqual(Object.values(COMPOSE_SERVICES_OF_STEP).flat().sort());
  });

  test('when the Temporal processes are compared, then each runs its one service of the pinned server on postgres12 with the same shards', () => {
    for (const process of TEMPORAL_PROCESSES) {
      const env = environmentOf(process.name);
      expect({ name: process.name, image: service(process.name).image, service: env.TEMPORAL_SERVICES }).toEqual({
        name: process.name,
        image: `temporalio/server:${TEMPORAL_SERVER_VERSION}`,
        service: process.service,
      });
      expect(env).toMatchObject({
        DB: POSTGRES_PLUGIN,
        POSTGRES_SEEDS: onlyServiceOf('postgresql'),
        DBNAME: TEMPORAL_DATABASES.default,
        VISIBILITY_DBNAME: TEMPORAL_DATABASES.visibility,
        NUM_HISTORY_SHARDS: String(HISTORY_SHARDS),
        TEMPORAL_ALLOW_NO_AUTH: 'true',
      });
      expect(env.DYNAMIC_CONFIG_FILE_PATH).toBe(mountTarget(process.name, 'deploy/temporal/dynamicconfig.yaml'));
    }
  });

  test('when the Temporal processes start, then the first one starts alone and every other one waits for it', () => {
    const [first, ...others] = TEMPORAL_PROCESSES;
    if (!first) throw new Error('no Temporal process');
    expect(service(first.name).healthcheck).toBeDefined();
    expect(waitsFor(first.name, onlyServiceOf('temporal-schemas'))).toBe(true);
    for (const process of others) expect({ process: process.name, waits: waitsFor(process.name, first.name) }).toEqual({ process: process.name, waits: true });
  });

  test('when the schema job is compared, then it applies the same schemas with the same plugin to the same databases', () => {
    const job = onlyServiceOf('temporal-schemas');
    expect(service(job).image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    expect(environmentOf(job)).toMatchObject({
      SQL_PLUGIN: POSTGRES_PLUGIN,
      SQL_HOST: onlyServiceOf('postgresql'),
      SQL_USER: environmentOf(frontend).POSTGRES_USER,
      TEMPORAL_DATABASE: TEMPORAL_DATABASES.default,
      TEMPORAL_SCHEMA_NAME: SCHEMA_NAMES.default,
      TEMPORAL_VISIBILITY_DATABASE: TEMPORAL_DATABASES.visibility,
      TEMPORAL_VISIBILITY_SCHEMA_NAME: SCHEMA_NAMES.visibility,
    });
    const script = readProjectFile('deploy/temporal/setup-schema.sh');
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema --schema-name']) expect(script).toContain(step);
    expect(service(onlyServiceOf('postgresql')).image).toBe('postgres:15');
  });

  test('when the namespace job is compared, then it creates the same namespace, retention and search attributes on the frontend', () => {
    const env = environmentOf(onlyServiceOf('namespace'));
    expect(env).toMatchObject({ TEMPORAL_ADDRESS: `${frontend}:7233`, TEMPORAL_NAMESPACE: CLUSTER_NAMESPACE, TEMPORAL_NAMESPACE_RETENTION: NAMESPACE_RETENTION });
    const declared = Object.fromEntries((env.SAGAPAY_SEARCH_ATTRIBUTES ?? '').split(/\s+/).map((pair): [string, string] => [pair.split('=')[0] ?? '', pair.split('=')[1] ?? '']));
    expect(declared).toEqual(SEARCH_ATTRIBUTES);
    expect(service(onlyServiceOf('temporal-ui')).image).toBe(`temporalio/ui:${TEMPORAL_UI_VERSION}`);
    expect(environmentOf(onlyServiceOf('temporal-ui'))).toMatchObject({ TEMPORAL_ADDRESS: `${frontend}:7233`, TEMPORAL_DEFAULT_NAMESPACE: CLUSTER_NAMESPACE });
  });

  test('when the dynamic configuration is compared, then the mounted file holds the values the native cluster writes', () => {
    expect(parse(readProjectFile('deploy/temporal/dynamicconfig.yaml'))).toEqual(parse(dynamicConfigYaml()));
  });

  test('when the SagaPay processes are compared, then each role runs as many copies of the same entry point', () => {
    const entryPoints = new Map(sagaPayProcesses().map((process) => [process.role, process.file]));
    const copies = (file: string | undefined) =>
      Object.values(compose.services)
        .filter((definition) => definition.command?.at(-1) === file)
        .reduce((sum, definition) => sum + (definition.deploy?.replicas ?? 1), 0);
    const roles = Object.keys(SAGAPAY_REPLICAS) as SagaPayRole[];
    expect(Object.fromEntries(roles.map((role) => [role, copies(entryPoints.get(role))]))).toEqual(SAGAPAY_REPLICAS);
  });

  test('when the environment of the SagaPay processes is compared, then they get the same switches and find the servers compose runs', () => {
    const expected = sagaPayClusterSettings({
      // Its host is checked on its own: the URL carries the password.
      databaseUrl: '',
      temporalAddress: `${frontend}:7233`,
      redisUrl: `redis://${onlyServiceOf('redis')}:6379`,
      smtpUrl: `smtp://${onlyServiceOf('mail-catcher')}:1025`,
    });
    for (const name of [onlyServiceOf('migrations'), ...COMPOSE_SERVICES_OF_STEP['sagapay-processes']]) {
      const env = environmentOf(name);
      expect(new URL(env.DATABASE_URL ?? '').hostname).toBe(onlyServiceOf('mariadb'));
      expect({ name, ...env }).toMatchObject({ name, ...expected, DATABASE_URL: env.DATABASE_URL });
    }
  });

  test('when the balancer is compared, then compose mounts what the native generator writes for its addresses', () => {
    const checkedIn = readProjectFile(COMPOSE_HAPROXY_CONFIG);
    expect(checkedIn).toBe(haproxyConfig(composeBalancerInput(apiNames)));
    expect(mountTarget(onlyServiceOf('load-balancer'), COMPOSE_HAPROXY_CONFIG)).toBe('/usr/local/etc/haproxy/haproxy.cfg');
    // Modulo the addresses, the native configuration is the same text.
    const native = haproxyConfig({ port: 41_000, backends: apiNames.map((name, index) => ({ name, port: 42_000 + index })), healthPath: BALANCER_HEALTH_PATH });
    const withoutAddresses = (config: string) => config.replace(/^( {2}bind) \S+$/gm, '$1 <address>').replace(/^( {2}server \S+) \S+ /gm, '$1 <address> ');
    expect(withoutAddresses(checkedIn)).toBe(withoutAddresses(native));
  });

  test('when the balancer is compared, then its backends are the API services, each ready on the checked route, and it waits for them', () => {
    const input = composeBalancerInput(apiNames);
    const balancer = onlyServiceOf('load-balancer');
    for (const backend of input.backends) {
      expect(service(backend.host ?? '').healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${backend.port}${BALANCER_HEALTH_PATH}`);
      expect(service(balancer).depends_on?.[backend.name]).toEqual({ condition: 'service_healthy' });
    }
    expect(service(balancer).ports).toEqual([`127.0.0.1:3000:${input.port}`]);
  });
});

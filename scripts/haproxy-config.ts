/**
 * Writes deploy/haproxy/haproxy.cfg, the balancer configuration docker-compose.yml mounts, from
 * the generator `npm run cluster` uses, so both run the same configuration with their own
 * addresses. test/compose-topology.test.ts fails when the checked-in file is not what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sagaPayProcesses } from './lib/cluster-topology';
import { COMPOSE_HAPROXY_CONFIG, composeBalancerInput, haproxyConfig } from './lib/haproxy';

const apiNames = sagaPayProcesses()
  .filter((process) => process.role === 'api')
  .map((process) => process.name);
const file = join(resolve(__dirname, '..'), COMPOSE_HAPROXY_CONFIG);
writeFileSync(file, haproxyConfig(composeBalancerInput(apiNames)));
console.log(`wrote ${file}`);

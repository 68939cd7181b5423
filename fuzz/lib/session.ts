import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ledgerBreaches } from '../../store/reconciliation';
import { openApiDocumentFor, ResponseValidator } from '../../test/support/openapi';
import type { TestStack } from '../../test/support/stack';
import { runCampaign, type CampaignResult } from './campaign';
import type { LedgerScope } from './ledger';
import { World } from './world';

/** How a fuzz session runs on a stack. */
export interface SessionOptions {
  requests: number;
  seed: number;
  path?: string;
  /** 'everything' on a stack of the fuzzer's own; 'own' when other tests share the database. */
  ledgerScope: 'everything' | 'own';
  progress?: (line: string) => void;
  progressEvery?: number;
}

/** A webhook endpoint that accepts every delivery, so the merchant webhooks the fuzzer registers end their retries. */
async function openWebhookSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/fuzz`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The database password in a DATABASE_URL (empty when it has none). */
function passwordOf(databaseUrl: string): string {
  try {
    return decodeURIComponent(new URL(databaseUrl).password);
  } catch {
    return '';
  }
}

/** Asks the admin API for the reconciliation once the run's sagas are final; lists the invariants it breaks. */
async function brokenInvariants(baseUrl: string, adminToken: string | undefined): Promise<string[]> {
  const response = await fetch(`${baseUrl}/v1/admin/reconciliation`, { headers: { Authorization: `Bearer ${adminToken ?? ''}` } });
  if (response.status !== 200) return [`GET /v1/admin/reconciliation answered ${response.status}`];
  return ledgerBreaches((await response.json()) as Record<string, unknown>);
}

/**
 * Fuzzes a running test stack: builds the OpenAPI document the app serves, signs up the fuzz
 * actors, and runs the campaign. The stack stays up; the caller stops it.
 */
export async function fuzzStack(stack: TestStack, options: SessionOptions): Promise<CampaignResult> {
  const document = openApiDocumentFor(stack.config);
  const sink = await openWebhookSink();
  try {
    const world = new World(stack.baseUrl, stack.db, sink.url, (userId) => stack.own.add(userId));
    await world.populate();
    const ledgerScope: LedgerScope = options.ledgerScope === 'everything' ? 'everything' : world.userIds;
    const result = await runCampaign({
      document,
      validator: new ResponseValidator(document),
      world,
      db: stack.db,
      own: stack.own,
      secrets: { jwtSecret: stack.config.jwt.secret, databasePassword: passwordOf(stack.config.databaseUrl) },
      requests: options.requests,
      seed: options.seed,
      path: options.path,
      ledgerScope,
      progress: options.progress,
      progressEvery: options.progressEvery,
    });
    await stack.own.settle(stack.db, { timeoutMs: 60_000 });
    const broken = await brokenInvariants(stack.baseUrl, world.tokenOf('admin'));
    if (broken.length > 0) result.failure = [result.failure, `the ledger after the run: ${broken.join('; ')}`].filter(Boolean).join('\n');
    return result;
  } finally {
    await stack.own.settle(stack.db, { timeoutMs: 60_000 }).catch(() => undefined);
    await sink.close();
  }
}

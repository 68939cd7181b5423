import { statusTotals, summaryTable } from './lib/campaign';
import { fuzzStack } from './lib/session';
import { startStack, type TestStack } from '../test/support/stack';

/**
 * The deterministic slice of `npm run fuzz`: a fixed seed and a few hundred generated requests
 * against the real stack (the full run makes ten thousand and more). The database is shared with
 * the other test files, so refused writes are judged on the ledger of the fuzz actors' users.
 */
const SEED = 20261201;
const REQUESTS = 1_500;

describe('fuzzing the API from its OpenAPI document', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack({ SAGA_FAULTS: 'enabled' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it(`when ${REQUESTS} requests are generated from the document with seed ${SEED}, then none answers 5xx or off the document, and no refused write moves money`, async () => {
    const result = await fuzzStack(stack, { requests: REQUESTS, seed: SEED, ledgerScope: 'own' });

    if (result.failure) throw new Error(`${result.failure}\n\n${summaryTable(result.tally)}`);
    // Accepted writes sent again as replays come on top of the generated requests.
    expect(result.requests).toBeGreaterThanOrEqual(REQUESTS);
    const statuses = statusTotals(result.tally);
    // The run reached past the front door: successes, refusals of every kind, and every operation.
    for (const status of [200, 201, 204, 400, 401, 403, 404, 409, 415, 422]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    expect(result.tally.size).toBeGreaterThanOrEqual(45);
  }, 180_000);
});

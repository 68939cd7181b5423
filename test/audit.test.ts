import { newId } from '../domain/ids';
import { recordAudit } from '../store/audit-log';
import { actorsOf, expectError } from './support/actors';
import { userWithWallet } from './support/fixtures';
import { startStack, type TestStack } from './support/stack';
import { issueAccessToken } from '../api/auth/tokens';

/** GET /v1/admin/audit on the real app and database: filters, time bounds, pagination, and who may read it. */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;

interface AuditPage {
  data: Array<{ id: string; actorId: string | null; action: string; resourceType: string; resourceId: string; data: Record<string, unknown>; createdAt: string }>;
  hasMore: boolean;
  nextCursor: string | null;
}

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  adminToken = await actors.admin();
});

afterAll(async () => {
  await stack.stop();
});

/** Five entries of one fresh actor at known times, a minute apart, oldest first; with a unique action and resource of this test. */
async function seedEntries() {
  const actor = newId('usr');
  const action = `test.${newId('req').slice(-10).toLowerCase()}`;
  const resourceId = newId('wal');
  const base = new Date('2026-06-01T10:00:00.000Z');
  const at = (minutes: number) => new Date(base.getTime() + minutes * 60_000);
  for (let minute = 0; minute < 5; minute += 1) {
    await recordAudit(stack.db, { actorId: actor, action, resourceType: minute % 2 === 0 ? 'wallet' : 'user', resourceId: minute % 2 === 0 ? resourceId : actor, data: { minute } }, at(minute));
  }
  return { actor, action, resourceId, at };
}

const audit = (query: string, token = adminToken) => actors.call<AuditPage>('GET', `/v1/admin/audit?${query}`, { token });
const minutesOf = (page: AuditPage) => page.data.map((entry) => entry.data.minute);

describe('GET /v1/admin/audit', () => {
  it('when filtered by actor, then only that actor’s entries come back, newest first, in the list form', async () => {
    const { actor, action } = await seedEntries();
    const page = await audit(`actor=${actor}`);
    expect(page.status).toBe(200);
    expect(minutesOf(page.body)).toEqual([4, 3, 2, 1, 0]);
    expect(page.body).toMatchObject({ hasMore: false, nextCursor: null });
    expect(page.body.data[0]).toEqual({
      id: expect.stringMatching(/^aud_/) as string,
      actorId: actor,
      action,
      resourceType: 'wallet',
      resourceId: expect.stringMatching(/^wal_/) as string,
      data: { minute: 4 },
      createdAt: '2026-06-01T10:04:00.000Z',
    });
  });

  it('when filtered by action, resource type and resource id together, then every filter holds', async () => {
    const { action, resourceId } = await seedEntries();
    expect(minutesOf((await audit(`action=${action}`)).body)).toEqual([4, 3, 2, 1, 0]);
    expect(minutesOf((await audit(`action=${action}&resourceType=user`)).body)).toEqual([3, 1]);
    expect(minutesOf((await audit(`action=${action}&resourceType=wallet&resourceId=${resourceId}`)).body)).toEqual([4, 2, 0]);
    expect(minutesOf((await audit(`action=${action}&resourceType=user&resourceId=${resourceId}`)).body)).toEqual([]);
  });

  it('when bounded by since (inclusive) and until (exclusive), then only entries in between come back', async () => {
    const { actor, at } = await seedEntries();
    const page = await audit(`actor=${actor}&since=${at(1).toISOString()}&until=${encodeURIComponent(at(3).toISOString().replace('Z', '+00:00'))}`);
    expect(minutesOf(page.body)).toEqual([2, 1]);
  });

  it('when paged with limit and the cursor, then every entry comes once, in order, and the last page says so', async () => {
    const { actor } = await seedEntries();
    const first = await audit(`actor=${actor}&limit=2`);
    expect(minutesOf(first.body)).toEqual([4, 3]);
    expect(first.body.hasMore).toBe(true);
    const second = await audit(`actor=${actor}&limit=2&startingAfter=${first.body.nextCursor ?? ''}`);
    expect(minutesOf(second.body)).toEqual([2, 1]);
    const third = await audit(`actor=${actor}&limit=2&startingAfter=${second.body.nextCursor ?? ''}`);
    expect(minutesOf(third.body)).toEqual([0]);
    expect(third.body).toMatchObject({ hasMore: false, nextCursor: null });
  });

  it('when a filter is malformed, then 400 validation_error names it', async () => {
    const bad = expectError(await audit('since=yesterday&until=2026-13-40&limit=0'), 400, 'validation_error');
    expect(Object.keys(bad.details?.fields ?? {}).sort()).toEqual(['limit', 'since', 'until']);
    const reversed = expectError(await audit('since=2026-06-02T00:00:00Z&until=2026-06-01T00:00:00Z'), 400, 'validation_error');
    expect(Object.keys(reversed.details?.fields ?? {})).toEqual(['until']);
    expectError(await audit(`actor=${'x'.repeat(41)}`), 400, 'validation_error');
    expectError(await audit('startingAfter=aud_unknown'), 404, 'not_found');
  });

  it('when a customer or merchant asks, then 403 forbidden; without a token, 401', async () => {
    for (const role of ['customer', 'merchant'] as const) {
      const { user } = await userWithWallet(stack.db, { role });
      const token = await issueAccessToken(stack.config.jwt, { userId: user.id, role, tokenVersion: 0 });
      expectError(await audit('', token), 403, 'forbidden');
    }
    expectError(await actors.call('GET', '/v1/admin/audit'), 401, 'unauthorized');
  });

  it('when an admin freezes a wallet, then the entry the shared recordAudit wrote is found by resource', async () => {
    const { wallet } = await userWithWallet(stack.db);
    expect((await actors.call('POST', `/v1/admin/wallets/${wallet.id}/freeze`, { token: adminToken })).status).toBe(200);
    const page = await audit(`resourceType=wallet&resourceId=${wallet.id}`);
    expect(page.body.data).toEqual([expect.objectContaining({ action: 'wallet.frozen', data: { from: 'active', to: 'frozen' } })]);
  });
});

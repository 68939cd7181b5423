import { MAX_ALIASES_PER_USER } from '../domain/aliases';
import { newId } from '../domain/ids';
import type { Payment } from '../store/payment-records';
import type { Transfer } from '../store/transfer-records';
import { actorsOf, expectError, type Actor } from './support/actors';
import { startStack, waitFor, type TestStack } from './support/stack';

/**
 * Aliases (`@handle`), paying and sending by handle, the recipient lookup and the directories on
 * the real stack. Every run uses handles of its own (a suffix), since the database may be kept
 * between runs. Each test ends with the reconciliation check (afterEach).
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;

type AliasBody = { alias: string; createdAt: string };
type Page<T> = { data: T[]; hasMore: boolean; nextCursor: string | null };

/** A handle no other test or run has used: `<label>_<random>` (at most 30 characters). */
const freshHandle = (label: string) => `${label}_${newId('req').slice(-10).toLowerCase()}`;

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  adminToken = await actors.admin();
});

afterEach(async () => {
  await actors.expectReconciled(adminToken);
});

afterAll(async () => {
  await stack.stop();
});

function claim(actor: Actor | string, alias: unknown) {
  return actors.call<AliasBody>('POST', '/v1/me/aliases', { token: typeof actor === 'string' ? actor : actor.token, body: { alias } });
}

async function claimed(actor: Actor, alias: string): Promise<string> {
  const response = await claim(actor, alias);
  expect(response.status).toBe(201);
  return response.body.alias;
}

describe('aliases', () => {
  it('when a user claims @Handle, then it is stored lower-cased and listed, and anyone else claiming it in any case gets 409 alias_taken', async () => {
    const [ada, bea] = await Promise.all([actors.signUp(), actors.signUp()]);
    const handle = freshHandle('ada');

    const response = await claim(ada, `@${handle.toUpperCase()}`);

    expect(response.status).toBe(201);
    expect(response.body.alias).toBe(`@${handle}`);
    const list = await actors.call<Page<AliasBody>>('GET', '/v1/me/aliases', { token: ada.token });
    expect(list.body).toEqual({ data: [response.body], hasMore: false, nextCursor: null });
    expectError(await claim(bea, handle), 409, 'alias_taken');
    expectError(await claim(bea, `@${handle[0]?.toUpperCase()}${handle.slice(1)}`), 409, 'alias_taken');
    expectError(await claim(ada, `@${handle}`), 409, 'alias_taken');
    expect(await stack.db('aliases').where({ alias: handle })).toEqual([expect.objectContaining({ user_id: ada.user.id })]);
    expect((await actors.call<Page<AliasBody>>('GET', '/v1/me/aliases', { token: bea.token })).body.data).toEqual([]);
  });

  it.each(['@admin', '@Support', 'SAGAPAY', '@www', '@billing', '@my_sagapay_help', '@admin_', '@support_team', '@s4gapay'])('when %j is claimed, then it is reserved: 400 validation_error', async (alias) => {
    const user = await actors.signUp();

    const error = expectError(await claim(user, alias), 400, 'validation_error');

    expect(error.details?.fields).toEqual({ alias: 'is reserved' });
    expect(await stack.db('aliases').where({ user_id: user.user.id })).toEqual([]);
  });

  it.each([['@ab'], [`@${'a'.repeat(31)}`], ['@ada-lovelace'], ['@@ada'], ['@adä_x'], [''], [42], [null]])('when %j is claimed, then 400 validation_error', async (alias) => {
    const user = await actors.signUp();

    expect(expectError(await claim(user, alias), 400, 'validation_error').details?.fields).toHaveProperty('alias');
    expect(await stack.db('aliases').where({ user_id: user.user.id })).toEqual([]);
  });

  it(`when a user holds ${MAX_ALIASES_PER_USER} handles, then the next is 409 alias_limit_reached until one is released`, async () => {
    const user = await actors.signUp();
    const handles = Array.from({ length: MAX_ALIASES_PER_USER + 1 }, (_, index) => freshHandle(`h${index}`));
    for (const handle of handles.slice(0, MAX_ALIASES_PER_USER)) await claimed(user, handle);

    expectError(await claim(user, handles[MAX_ALIASES_PER_USER]), 409, 'alias_limit_reached');
    expect((await actors.call('DELETE', `/v1/me/aliases/${handles[0]}`, { token: user.token })).status).toBe(204);

    expect(await claimed(user, handles[MAX_ALIASES_PER_USER] ?? '')).toBe(`@${handles[MAX_ALIASES_PER_USER]}`);
    const list = await actors.call<Page<AliasBody>>('GET', '/v1/me/aliases', { token: user.token });
    expect(list.body.data.map((alias) => alias.alias).sort()).toEqual(handles.slice(1).map((handle) => `@${handle}`).sort());
  });

  it('when a user releases a handle (any case, @ encoded), then it is free for others, and the audit log keeps who held it; another user cannot release it', async () => {
    const [ada, bea] = await Promise.all([actors.signUp(), actors.signUp()]);
    const handle = freshHandle('free');
    await claimed(ada, handle);

    expectError(await actors.call('DELETE', `/v1/me/aliases/${handle}`, { token: bea.token }), 404, 'not_found');
    const released = await actors.call('DELETE', `/v1/me/aliases/%40${handle.toUpperCase()}`, { token: ada.token });

    expect(released.status).toBe(204);
    expectError(await actors.call('DELETE', `/v1/me/aliases/${handle}`, { token: ada.token }), 404, 'not_found');
    await claimed(bea, handle);
    const audit = await stack.db('audit_log').where({ resource_type: 'alias', resource_id: handle }).orderBy('seq', 'asc');
    expect(audit.map((row) => [row.action, row.actor_id])).toEqual([
      ['alias.claimed', ada.user.id],
      ['alias.released', ada.user.id],
      ['alias.claimed', bea.user.id],
    ]);
  });

  it('when six users claim one handle at the same moment, then exactly one gets 201 and the others 409 alias_taken', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => actors.signUp()));
    const handle = freshHandle('race');

    const answers = await Promise.all(users.map((user) => claim(user, `@${handle}`)));

    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const answer of answers.filter((candidate) => candidate.status === 409)) expectError(answer, 409, 'alias_taken');
    const winner = users[answers.findIndex((answer) => answer.status === 201)];
    expect(await stack.db('aliases').where({ alias: handle })).toEqual([expect.objectContaining({ user_id: winner?.user.id })]);
  });

  it('when an admin claims a handle, then 403 forbidden', async () => {
    expectError(await claim(adminToken, freshHandle('staff')), 403, 'forbidden');
  });
});

describe('paying and sending by handle', () => {
  it('when a customer sends to @Handle, then the holder receives it; unknown handles are 404 not_found, a merchant’s 422 recipient_is_merchant', async () => {
    const [sender, recipient, merchant] = await Promise.all([actors.signUp(), actors.signUp(), actors.signUp({ role: 'merchant' })]);
    const [handle, shopHandle] = [freshHandle('bea'), freshHandle('shop')];
    await claimed(recipient, handle);
    await claimed(merchant, shopHandle);
    const send = (body: Record<string, unknown>) => actors.call<Transfer>('POST', '/v1/transfers', { token: sender.token, body: { amount: 700, currency: 'USD', ...body } });

    const sent = await send({ to: `@${handle.toUpperCase()}` });

    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: 'succeeded', toWalletId: recipient.wallet.id, fromWalletId: sender.wallet.id });
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(10_700);
    expectError(await send({ to: `@${freshHandle('nobody')}` }), 404, 'not_found');
    expectError(await send({ to: `@${shopHandle}` }), 422, 'recipient_is_merchant');
    expectError(await send({ toUserId: merchant.user.id }), 422, 'recipient_is_merchant');
    expectError(await send({ to: `@${handle}`, toEmail: recipient.email }), 400, 'validation_error');
    expectError(await send({ to: 'not a handle!' }), 400, 'validation_error');
    expect(await stack.db('transfers').where({ sender_id: sender.user.id })).toHaveLength(1);
  });

  it('when a customer pays merchant: @handle, then that merchant is paid; an unknown handle or a person’s is 404 merchant_not_found', async () => {
    const [payer, person, merchant] = await Promise.all([actors.signUp(), actors.signUp(), actors.signUp({ role: 'merchant', name: 'Handle Shop' })]);
    const [shopHandle, personHandle] = [freshHandle('shop'), freshHandle('person')];
    await claimed(merchant, shopHandle);
    await claimed(person, personHandle);
    const pay = (body: Record<string, unknown>) => actors.call<Payment>('POST', '/v1/payments', { token: payer.token, body: { amount: 1_000, currency: 'USD', ...body } });

    const paid = await pay({ merchant: shopHandle.toUpperCase() });

    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ status: 'succeeded', merchantId: merchant.user.id, merchantWalletId: merchant.wallet.id });
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(paid.body.netAmount);
    expectError(await pay({ merchant: `@${freshHandle('ghost')}` }), 404, 'merchant_not_found');
    expectError(await pay({ merchant: `@${personHandle}` }), 404, 'merchant_not_found');
    expectError(await pay({ merchant: `@${shopHandle}`, merchantId: merchant.user.id }), 400, 'validation_error');
    expectError(await pay({}), 400, 'validation_error');
    expect(await stack.db('payments').where({ payer_id: payer.user.id })).toHaveLength(1);
  });
});

describe('idempotency by handle', () => {
  it('when a request names a handle in another case or without its @ under the same key, then it is the same request: the first payment or transfer is replayed and nothing moves twice', async () => {
    const [payer, friend, merchant] = await Promise.all([actors.signUp(), actors.signUp(), actors.signUp({ role: 'merchant' })]);
    const [shopHandle, friendHandle] = [freshHandle('shop'), freshHandle('pal')];
    await claimed(merchant, shopHandle);
    await claimed(friend, friendHandle);
    const post = (path: string, key: string, body: Record<string, unknown>) =>
      actors.call<{ id: string }>('POST', path, { token: payer.token, body: { amount: 500, currency: 'USD', ...body }, headers: { 'Idempotency-Key': key } });

    const paid = await post('/v1/payments', 'pay-by-handle', { merchant: `@${shopHandle.toUpperCase()}` });
    const paidAgain = await post('/v1/payments', 'pay-by-handle', { merchant: shopHandle });
    const sent = await post('/v1/transfers', 'send-by-handle', { to: friendHandle });
    const sentAgain = await post('/v1/transfers', 'send-by-handle', { to: ` @${friendHandle.toUpperCase()}` });

    expect([paid.status, paidAgain.status, sent.status, sentAgain.status]).toEqual([201, 201, 201, 201]);
    expect(paidAgain.body.id).toBe(paid.body.id);
    expect(paidAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(sentAgain.body.id).toBe(sent.body.id);
    expect(sentAgain.headers.get('idempotent-replayed')).toBe('true');
    expect(await stack.db('payments').where({ payer_id: payer.user.id })).toHaveLength(1);
    expect(await stack.db('transfers').where({ sender_id: payer.user.id })).toHaveLength(1);
    expectError(await post('/v1/payments', 'pay-by-handle', { merchant: shopHandle, amount: 501 }), 422, 'idempotency_key_reused');
  });
});

describe('recipient lookup', () => {
  it('when a user looks up a handle or an e-mail, then only the name and kind come back; unknown ones and admins are 404', async () => {
    const [asker, person, merchant] = await Promise.all([actors.signUp(), actors.signUp({ name: 'Bea Person' }), actors.signUp({ role: 'merchant', name: 'Corner Shop' })]);
    const handle = freshHandle('bea');
    await claimed(person, handle);
    const lookUp = (to: string) => actors.call('GET', `/v1/recipients?to=${encodeURIComponent(to)}`, { token: asker.token });

    const byHandle = await lookUp(`@${handle.toUpperCase()}`);
    const byEmail = await lookUp(merchant.email.toUpperCase());

    expect(byHandle.status).toBe(200);
    expect(byHandle.body).toEqual({ name: 'Bea Person', kind: 'person' });
    expect(byEmail.body).toEqual({ name: 'Corner Shop', kind: 'merchant' });
    for (const answer of [byHandle, byEmail]) {
      const text = JSON.stringify(answer.body);
      for (const secret of [person.user.id, merchant.user.id, person.email, merchant.email, person.wallet.id, 'usr_', 'wal_']) expect(text).not.toContain(secret);
    }
    expectError(await lookUp(`@${freshHandle('nobody')}`), 404, 'not_found');
    expectError(await lookUp(`nobody.${newId('req').toLowerCase()}@example.test`), 404, 'not_found');
    const adminEmail = (await stack.db('users').where({ role: 'admin' }).orderBy('seq', 'desc').first())?.email;
    expectError(await lookUp(String(adminEmail)), 404, 'not_found');
    expectError(await lookUp('@x'), 400, 'validation_error');
    expectError(await actors.call('GET', '/v1/recipients', { token: asker.token }), 400, 'validation_error');
    expectError(await actors.call('GET', `/v1/recipients?to=${handle}`), 401, 'unauthorized');
  });
});

describe('directories', () => {
  it('when a signed-in user searches merchants by part of a name or handle, then the matching merchants come with their handle, and people never', async () => {
    const tag = newId('req').slice(-8).toLowerCase();
    const [customer, bakery, florist] = await Promise.all([
      actors.signUp({ name: `Zed ${tag} Customer` }),
      actors.signUp({ role: 'merchant', name: `The ${tag} Bakery` }),
      actors.signUp({ role: 'merchant', name: 'Plain Florist' }),
    ]);
    const floristHandle = freshHandle('fl');
    await claimed(florist, floristHandle);
    const search = (query: string, extra = '') =>
      actors.call<Page<{ id: string; name: string; handle: string | null }>>('GET', `/v1/merchants?query=${encodeURIComponent(query)}${extra}`, { token: customer.token });

    const byName = await search(tag.toUpperCase());
    const byHandle = await search(`@${floristHandle.slice(2).toUpperCase()}`);

    expect(byName.status).toBe(200);
    expect(byName.body.data).toEqual([{ id: bakery.user.id, name: `The ${tag} Bakery`, handle: null }]);
    expect(byHandle.body.data).toEqual([{ id: florist.user.id, name: 'Plain Florist', handle: `@${floristHandle}` }]);
    expect((await search(tag, '&limit=1')).body).toMatchObject({ hasMore: false });
    expect((await search(`%${tag}`)).body.data).toEqual([]);
    expect((await search('_')).body.data.every((merchant) => `${merchant.name}${merchant.handle ?? ''}`.includes('_'))).toBe(true);
    const everyone = await actors.call<Page<{ id: string }>>('GET', '/v1/merchants?limit=100', { token: customer.token });
    expect(everyone.body.data.map((merchant) => merchant.id)).toEqual(expect.arrayContaining([florist.user.id, bakery.user.id]));
    expect(everyone.body.data.map((merchant) => merchant.id)).not.toContain(customer.user.id);
    expectError(await search('x'.repeat(101)), 400, 'validation_error');
    expectError(await actors.call('GET', '/v1/merchants'), 401, 'unauthorized');
  });

  it('when a merchant closes their account, then its handles are released (audited), and neither the directory nor the recipient lookup finds it', async () => {
    const tag = newId('req').slice(-8).toLowerCase();
    const [asker, merchant] = await Promise.all([actors.signUp(), actors.signUp({ role: 'merchant', name: `Closing ${tag} Shop` })]);
    const handle = freshHandle('closing');
    await claimed(merchant, handle);
    const directory = () => actors.call<Page<{ id: string }>>('GET', `/v1/merchants?query=${tag}`, { token: asker.token });
    const lookUp = (to: string) => actors.call('GET', `/v1/recipients?to=${encodeURIComponent(to)}`, { token: asker.token });
    expect((await directory()).body.data.map((found) => found.id)).toEqual([merchant.user.id]);
    expect((await lookUp(merchant.email)).status).toBe(200);

    // Onboarding (the welcome notification) ends after the wallet appears; until then closing is 409 (onboarding).
    await waitFor(async () => (await stack.db('users').where({ id: merchant.user.id }).first())?.onboarding_status === 'completed', { what: 'the merchant’s onboarding to end' });
    expect((await actors.call('DELETE', '/v1/me', { token: merchant.token })).status).toBe(204);

    expect((await directory()).body.data).toEqual([]);
    expectError(await lookUp(merchant.email), 404, 'not_found');
    expectError(await lookUp(`@${handle}`), 404, 'not_found');
    expect(await stack.db('aliases').where({ user_id: merchant.user.id })).toEqual([]);
    expect(await stack.db('audit_log').where({ resource_type: 'alias', resource_id: handle, action: 'alias.released', actor_id: merchant.user.id })).toHaveLength(1);
    await claimed(asker, handle);
  });

  it('when an admin searches users by e-mail prefix or name, then each comes with their wallets; anyone else gets 403', async () => {
    const tag = newId('req').slice(-8).toLowerCase();
    const customer = await actors.signUp({ name: `Searchable ${tag}` });
    await actors.call('POST', '/v1/wallets', { token: customer.token, body: { currency: 'EUR' } });
    const search = (token: string, query: string) =>
      actors.call<Page<{ user: { id: string; email: string }; wallets: Array<{ currency: string }> }>>('GET', `/v1/admin/users?query=${encodeURIComponent(query)}`, { token });

    const byName = await search(adminToken, tag.toUpperCase());
    const byEmail = await search(adminToken, customer.email.slice(0, customer.email.indexOf('@')));

    expect(byName.status).toBe(200);
    expect(byName.body.data.map((found) => found.user.id)).toEqual([customer.user.id]);
    expect(byName.body.data[0]?.wallets.map((wallet) => wallet.currency).sort()).toEqual(['EUR', 'USD']);
    expect(byEmail.body.data.map((found) => found.user.email)).toEqual([customer.email]);
    expect((await search(adminToken, customer.email.toUpperCase())).body.data.map((found) => found.user.id)).toEqual([customer.user.id]);
    expect((await search(adminToken, `x${customer.email}`)).body.data).toEqual([]);
    expect(JSON.stringify(byName.body)).not.toMatch(/password|hash/i);
    expectError(await search(customer.token, tag), 403, 'forbidden');
    const merchant = await actors.signUp({ role: 'merchant' });
    expectError(await search(merchant.token, tag), 403, 'forbidden');
  });
});

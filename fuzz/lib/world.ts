import type { Knex } from 'knex';
import { hashPassword } from '../../api/auth/passwords';
import { insertUser } from '../../api/users';
import { newId } from '../../domain/ids';

/** The actors a request can be made as; `anonymous` sends no credentials. */
export const ACTOR_NAMES = ['anonymous', 'customer', 'customer2', 'merchant', 'admin'] as const;
/** One of `ACTOR_NAMES`. */
export type ActorName = (typeof ACTOR_NAMES)[number];

/** The kinds of real value a generated request may name, resolved when it is sent. */
export type RefKind =
  | 'wallet'
  | 'ownWallet'
  | 'payment'
  | 'refund'
  | 'transfer'
  | 'blocklist'
  | 'anyId'
  | 'userId'
  | 'merchantId'
  | 'email'
  | 'password'
  | 'ownPassword'
  | 'handle'
  | 'alias'
  | 'asset'
  | 'webhookUrl'
  | 'forgedToken'
  | 'unsignedToken'
  | 'otherActorToken';

/**
 * A real value (an id of the fuzz actors, an e-mail, a password…) that a generated request names
 * by kind and index: the world picks it when the request is sent, so one generated request means
 * the same thing whenever the seed is replayed against a fresh stack.
 */
export class Ref {
  constructor(
    readonly kind: RefKind,
    readonly pick: number,
  ) {}

  toString(): string {
    return `Ref(${this.kind}#${this.pick})`;
  }
}

/** A signed-up user the fuzzer acts as. */
export interface FuzzActor {
  name: ActorName;
  role: 'customer' | 'merchant' | 'admin';
  userId: string;
  email: string;
  password: string;
  token: string;
}

const ID_PATTERN = /^(usr|wal|pay|ref|trf|blk)_[0-9A-HJKMNP-TV-Z]{26}$/;
const ONBOARDING_TIMEOUT_MS = 30_000;
const PASSWORD = 'fuzz-password-1';
const DOCS_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'swagger-ui-standalone-preset.js'];

/** What the fuzzer knows about the stack it drives: its actors and every id they have seen. */
export class World {
  readonly actors = new Map<ActorName, FuzzActor>();
  /** Every user the fuzz run made (its actors and the users its requests registered). */
  readonly userIds = new Set<string>();
  private readonly pools = new Map<string, string[]>();
  private readonly emails: Array<{ email: string; password: string }> = [];
  private readonly handles: string[] = [];
  private readonly aliases = new Map<string, string[]>();

  constructor(
    readonly baseUrl: string,
    readonly db: Knex,
    readonly webhookUrl: string,
    private readonly onUser: (userId: string) => void,
  ) {}

  /** Signs up the actors through the API (the admin straight in the database, as operators do) and makes one of each resource. */
  async populate(): Promise<void> {
    await Promise.all([this.signUp('customer', 'customer'), this.signUp('customer2', 'customer'), this.signUp('merchant', 'merchant'), this.makeAdmin()]);
    await this.seedResources();
  }

  /** The token of an actor (undefined for anonymous). */
  tokenOf(name: ActorName): string | undefined {
    return this.actors.get(name)?.token;
  }

  /** The real value a ref names, from the current pools; a syntactically plausible unknown id when the pool is empty. */
  resolve(ref: Ref, actor: ActorName): string {
    const pick = <T>(items: readonly T[], fallback: T): T => (items.length === 0 ? fallback : (items[ref.pick % items.length] as T));
    const self = this.actors.get(actor);
    switch (ref.kind) {
      case 'ownWallet':
        return pick(this.pool(`wal:${self?.userId ?? ''}`), pick(this.pool('wal'), 'wal_00000000000000000000000000'));
      case 'wallet':
        return pick(this.pool('wal'), 'wal_00000000000000000000000000');
      case 'payment':
        return pick(this.pool('pay'), 'pay_00000000000000000000000000');
      case 'refund':
        return pick(this.pool('ref'), 'ref_00000000000000000000000000');
      case 'transfer':
        return pick(this.pool('trf'), 'trf_00000000000000000000000000');
      case 'blocklist':
        return pick(this.pool('blk'), 'blk_00000000000000000000000000');
      case 'anyId':
        return pick([...this.pool('wal'), ...this.pool('pay'), ...this.pool('trf'), ...this.pool('usr')], 'usr_00000000000000000000000000');
      case 'userId':
        return pick(this.pool('usr'), 'usr_00000000000000000000000000');
      case 'merchantId':
        return pick(this.pool('merchant'), 'usr_00000000000000000000000000');
      case 'email':
        return pick(this.emails, { email: 'nobody@example.test', password: '' }).email;
      case 'password':
        return pick(this.emails, { email: '', password: PASSWORD }).password;
      case 'ownPassword':
        return self?.password ?? PASSWORD;
      case 'handle':
        return pick(this.handles, '@nobody');
      case 'alias':
        return pick(this.aliases.get(self?.userId ?? '') ?? [], pick(this.handles, '@nobody')).replace(/^@/, ref.pick % 2 === 0 ? '@' : '');
      case 'asset':
        return pick(DOCS_ASSETS, 'swagger-ui.css');
      case 'webhookUrl':
        return this.webhookUrl;
      case 'forgedToken':
        return forge(self?.token ?? this.actors.get('customer')?.token ?? 'a.b.c');
      case 'unsignedToken':
        return unsigned(self?.token ?? this.actors.get('customer')?.token ?? 'a.b.c');
      case 'otherActorToken':
        return pick([...this.actors.values()].map((other) => other.token), 'a.b.c');
    }
  }

  /** Takes in what an answer shows: new ids for the pools, new users, aliases, and actors whose credentials changed. */
  async learn(exchange: { method: string; path: string; authorization: string | undefined; status: number; body: unknown; sentBody: unknown }): Promise<void> {
    if (exchange.status >= 300) return;
    const route = `${exchange.method} ${exchange.path.split('?')[0] ?? ''}`;
    // The actor is whoever's token was sent (a request may carry another actor's token).
    const actor = [...this.actors.values()].find((candidate) => exchange.authorization === `Bearer ${candidate.token}`);
    if (route === 'POST /v1/auth/register') {
      const user = (exchange.body as { user: { id: string; email: string; role: string } }).user;
      const sent = exchange.sentBody as { password: string };
      this.addUser(user.id, user.email, sent.password, user.role);
    } else if (route === 'POST /v1/me/aliases' && actor) {
      const alias = (exchange.body as { alias: string }).alias;
      this.aliases.set(actor.userId, [...(this.aliases.get(actor.userId) ?? []), alias]);
      if (actor.role === 'merchant') this.handles.push(alias);
    } else if (route === 'DELETE /v1/me' && actor) {
      await this.signUp(actor.name, actor.role === 'merchant' ? 'merchant' : 'customer');
      return;
    } else if (route === 'POST /v1/me/password' && actor) {
      actor.password = (exchange.sentBody as { newPassword: string }).newPassword;
      actor.token = await this.login(actor.email, actor.password);
      return;
    }
    this.collectIds(exchange.body);
  }

  /** Adds every public id found in a body to the pools (wallet ids also under their owner). */
  private collectIds(body: unknown): void {
    const visit = (value: unknown): void => {
      if (typeof value === 'string') {
        const match = ID_PATTERN.exec(value);
        if (match) this.remember(match[1] as string, value);
      } else if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') {
        const object = value as Record<string, unknown>;
        if (typeof object.id === 'string' && object.id.startsWith('wal_') && typeof object.userId === 'string') this.remember(`wal:${object.userId}`, object.id);
        Object.values(object).forEach(visit);
      }
    };
    visit(body);
  }

  private pool(name: string): string[] {
    let pool = this.pools.get(name);
    if (!pool) this.pools.set(name, (pool = []));
    return pool;
  }

  private remember(pool: string, id: string): void {
    const items = this.pool(pool);
    if (!items.includes(id)) items.push(id);
  }

  private addUser(userId: string, email: string, password: string, role: string): void {
    this.userIds.add(userId);
    this.onUser(userId);
    this.remember('usr', userId);
    if (role === 'merchant') this.remember('merchant', userId);
    this.emails.push({ email, password });
  }

  private async call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  }

  private async login(email: string, password: string): Promise<string> {
    const answer = await this.call('POST', '/v1/auth/login', { email, password });
    if (answer.status !== 200) throw new Error(`the fuzz actor ${email} could not log in (${answer.status})`);
    return (answer.body as { accessToken: string }).accessToken;
  }

  /** Registers an actor, logs in and waits for onboarding to have made (and for customers, credited) its wallet. */
  private async signUp(name: ActorName, role: 'customer' | 'merchant'): Promise<void> {
    const email = `fuzz.${name}.${newId('req').slice(4).toLowerCase()}@example.test`;
    const registered = await this.call('POST', '/v1/auth/register', { email, password: PASSWORD, name: `Fuzz ${name}`, role });
    if (registered.status !== 201) throw new Error(`registering the fuzz ${name} answered ${registered.status}: ${JSON.stringify(registered.body)}`);
    const userId = (registered.body as { user: { id: string } }).user.id;
    this.addUser(userId, email, PASSWORD, role);
    const token = await this.login(email, PASSWORD);
    this.actors.set(name, { name, role, userId, email, password: PASSWORD, token });
    const deadline = Date.now() + ONBOARDING_TIMEOUT_MS;
    for (;;) {
      const me = await this.call('GET', '/v1/me', undefined, token);
      const wallets = (me.body as { wallets: Array<{ id: string; balance: number }> }).wallets;
      if (wallets[0] && (role === 'merchant' || wallets[0].balance > 0)) break;
      if (Date.now() > deadline) throw new Error(`the onboarding of the fuzz ${name} did not finish in ${ONBOARDING_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.collectIds((await this.call('GET', '/v1/me', undefined, token)).body);
  }

  private async makeAdmin(): Promise<void> {
    const email = `fuzz.admin.${newId('req').slice(4).toLowerCase()}@example.test`;
    const user = await insertUser(this.db, { email, passwordHash: await hashPassword(PASSWORD), name: 'Fuzz admin', phone: null, role: 'admin', currency: 'USD' });
    this.userIds.add(user.id);
    this.onUser(user.id);
    const token = await this.login(email, PASSWORD);
    this.actors.set('admin', { name: 'admin', role: 'admin', userId: user.id, email, password: PASSWORD, token });
  }

  /** One of each resource, so that path parameters can name real ones from the first request on. */
  private async seedResources(): Promise<void> {
    const customer = this.actors.get('customer') as FuzzActor;
    const merchant = this.actors.get('merchant') as FuzzActor;
    const admin = this.actors.get('admin') as FuzzActor;
    const customer2 = this.actors.get('customer2') as FuzzActor;
    const handle = `@fuzz_${newId('req').slice(-10).toLowerCase()}`;
    const seeded = [
      await this.call('POST', '/v1/me/aliases', { alias: handle }, merchant.token),
      await this.call('POST', '/v1/payments', { merchantId: merchant.userId, amount: 1_000, currency: 'USD' }, customer.token),
      await this.call('POST', '/v1/transfers', { toUserId: customer2.userId, amount: 100, currency: 'USD' }, customer.token),
      await this.call('POST', '/v1/wallets', { currency: 'EUR' }, customer.token),
      await this.call('POST', '/v1/admin/blocklist', { kind: 'email', value: 'blocked@example.test', reason: 'fuzz seed' }, admin.token),
    ];
    for (const answer of seeded) if (answer.status >= 300) throw new Error(`seeding the fuzz resources answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    this.handles.push(handle);
    this.aliases.set(merchant.userId, [handle]);
    for (const answer of seeded) this.collectIds(answer.body);
    const paymentId = (seeded[1]?.body as { id: string }).id;
    const refund = await this.call('POST', `/v1/payments/${paymentId}/refunds`, { amount: 100 }, merchant.token);
    if (refund.status >= 300) throw new Error(`seeding a refund answered ${refund.status}: ${JSON.stringify(refund.body)}`);
    this.collectIds(refund.body);
  }
}

/** A real token with its signature altered: well-formed, but not signed by the API. */
function forge(token: string): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const flipped = signature.endsWith('A') ? `${signature.slice(0, -1)}B` : `${signature.slice(0, -1)}A`;
  return `${header}.${payload}.${flipped}`;
}

/** A real token's claims under `alg: none` with no signature. */
function unsigned(token: string): string {
  const payload = token.split('.')[1] ?? '';
  return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
}

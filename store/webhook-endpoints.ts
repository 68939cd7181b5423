import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../domain/ids';

/** A merchant's endpoint as `PUT /v1/merchant/webhook` answers: the only time the secret is shown. */
export interface WebhookRegistration {
  url: string;
  secret: string;
}

/** A fresh signing secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** Sets a merchant's endpoint, or replaces its URL; either way a new secret (calling again rotates it). */
export async function registerWebhookEndpoint(db: Knex, merchantId: string, url: string): Promise<WebhookRegistration> {
  const secret = newWebhookSecret();
  const now = new Date();
  await db('webhook_endpoints')
    .insert({ id: newId('whe'), merchant_id: merchantId, url, secret, created_at: now, updated_at: now })
    .onConflict('merchant_id')
    .merge(['url', 'secret', 'updated_at']);
  return { url, secret };
}

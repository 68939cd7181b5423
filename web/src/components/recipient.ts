import { api, unwrap } from '../api/client';

/** Who a confirmation screen names. */
export interface Recipient {
  name: string;
  kind: 'person' | 'merchant';
}

/** The name and kind behind an @handle or an e-mail address, for the confirmation screen. */
export async function lookUpRecipient(to: string): Promise<Recipient> {
  return unwrap(await api.GET('/v1/recipients', { params: { query: { to } } }));
}

/** A directory entry: a merchant's id, name and handle. */
export interface DirectoryMerchant {
  id: string;
  name: string;
  handle?: string | null;
}

/** Merchants whose name or handle contains `query`, at most `limit`. */
export async function searchMerchants(query: string, limit = 5): Promise<DirectoryMerchant[]> {
  return unwrap(await api.GET('/v1/merchants', { params: { query: { query, limit } } })).data;
}

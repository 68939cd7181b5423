import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostOf, isPublicAddress, publicOnlyLookup, type HostResolver } from './network-addresses';
import { isIP } from 'node:net';

/** What one POST to a merchant's endpoint got back. */
export interface WebhookResponse {
  status: number;
}

/** Options of `postWebhook`. */
export interface WebhookPostOptions {
  /** The whole attempt (connect, send, response headers) must finish within this. */
  timeoutMs: number;
  /** Development and tests only: lets the request reach loopback and private addresses. */
  allowPrivateAddresses: boolean;
  /** Resolves host names for the public-address check and the connection alike; the system's by default. */
  resolver?: HostResolver;
}

/** Largest response body we read before hanging up: the status is all we need. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs a JSON body to a merchant's webhook URL. No redirects are followed; the
 * connection (a new one each time) is made only to a public address unless private ones are allowed.
 * Resolves with the status of any answer; rejects when there is none (refused,
 * timed out, not a public address).
 */
export function postWebhook(url: string, body: string, headers: Record<string, string>, options: WebhookPostOptions): Promise<WebhookResponse> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.reject(new Error(`${target.protocol} URLs are not delivered to`));
  const host = hostOf(target);
  if (!options.allowPrivateAddresses && isIP(host) && !isPublicAddress(host)) return Promise.reject(new Error(`${host} is not a public address`));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      target,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'SagaPay-Webhooks/1', ...headers },
        signal: AbortSignal.timeout(options.timeoutMs),
        // A connection of its own for every attempt, so the address check runs on each one: a pooled
        // keep-alive socket to the same host and port (made by another request of this process,
        // without the check) would otherwise be reused and skip the lookup altogether.
        agent: false,
        ...(options.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup(options.resolver) }),
      },
      (response) => {
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('error', () => undefined);
        response.on('close', () => resolve({ status: response.statusCode ?? 0 }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What a merchant does with `Webhook-Signature: t=…,v1=…` (docs/architecture.md shows the same
 * code): recompute the HMAC over "<t>.<raw body>", compare in constant time, and
 * refuse a timestamp too far from now so a captured request cannot be replayed later.
 */
export function verifyWebhookSignature(secret: string, header: string, rawBody: string, toleranceSeconds = 300, nowSeconds = Date.now() / 1000): boolean {
  const fields = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(fields.get('t'));
  const signature = fields.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One request the receiver got. */
export interface ReceivedWebhook {
  body: string;
  signature: string;
  signatureValid: boolean;
  event: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
  /** What the receiver answered. */
  status: number;
}

/**
 * A merchant's webhook endpoint for tests, on 127.0.0.1: checks each request's
 * signature against `secret` (400 when it does not verify) and answers the next
 * status of `plannedStatuses` (then 200 once they run out).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  secret = '';
  plannedStatuses: number[] = [];
  /**
   * false: every request's connection is dropped without an answer, while the port stays bound
   * to this receiver (closing the server instead would free the port for whatever binds next,
   * and the sender's retries would reach it).
   */
  answering = true;
  /**
   * true: each request is read and then left waiting for its answer until `release()` (a sender
   * caught mid-request); `held` counts them. They are not in `received` until answered.
   */
  holding = false;
  private readonly waiting: Array<{ answer: () => void; socket: Socket }> = [];

  private readonly server: Server = createServer((request, response) => {
    if (!this.answering) {
      request.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = () => {
        if (request.socket.destroyed) return;
        const status = this.handle(String(request.headers['webhook-signature'] ?? ''), Buffer.concat(chunks).toString('utf8'));
        response.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      };
      if (this.holding) this.waiting.push({ answer, socket: request.socket });
      else answer();
    });
  });

  /** How many requests are waiting for their answer (see `holding`). */
  get held(): number {
    return this.waiting.length;
  }

  /** How many of the waiting requests still have their connection (a sender that died has none). */
  get heldConnected(): number {
    return this.waiting.filter((request) => !request.socket.destroyed).length;
  }

  /** Stops holding and answers the waiting requests (those whose sender is gone are skipped). */
  release(): void {
    this.holding = false;
    for (const request of this.waiting.splice(0)) request.answer();
  }

  private constructor() {}

  static async open(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** The endpoint's URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/sagapay`;
  }

  private handle(signature: string, body: string): number {
    const signatureValid = verifyWebhookSignature(this.secret, signature, body);
    const status = signatureValid ? (this.plannedStatuses.shift() ?? 200) : 400;
    this.received.push({ body, signature, signatureValid, event: JSON.parse(body) as ReceivedWebhook['event'], status });
    return status;
  }

  /** The requests the receiver accepted (answered 2xx). */
  accepted(): ReceivedWebhook[] {
    return this.received.filter((request) => request.status < 300);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

import type { Middleware } from 'koa';
import { HttpError } from '../errors';

/** Largest request body accepted, per the contract. */
export const MAX_BODY_BYTES = 64 * 1024;
/**
 * Deepest nesting of objects and arrays accepted. The contract's bodies are two levels deep at
 * most; without a bound, 64 KiB of `[` is 65,536 levels, and code that walks a body recursively
 * (the idempotency hash does) runs out of stack: a 500 for the client, a crash risk for us.
 */
export const MAX_BODY_DEPTH = 32;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Reads a JSON body on writes: 415 for another content type, 413 past 64 KiB
 * (counted while reading, so a lying Content-Length cannot get past it),
 * 400 invalid_json for bytes that do not parse. No body leaves `ctx.request.body` undefined.
 */
export function jsonBody(): Middleware {
  return async (ctx, next) => {
    if (!WRITE_METHODS.has(ctx.method) || !hasBody(ctx.req.headers)) {
      await next();
      return;
    }
    if (!ctx.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'Send the body as application/json.');
    }
    const declared = Number(ctx.get('Content-Length') || 0);
    if (declared > MAX_BODY_BYTES) throw payloadTooLarge();
    const raw = await readLimited(ctx.req, MAX_BODY_BYTES);
    const text = raw.toString('utf8');
    try {
      ctx.request.body = raw.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new HttpError(400, 'invalid_json', 'The body is not valid JSON.');
    }
    if (nestingExceeds(text, MAX_BODY_DEPTH)) {
      throw new HttpError(400, 'invalid_json', `The body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep.`);
    }
    if (hasLoneSurrogate(ctx.request.body)) {
      throw new HttpError(400, 'invalid_json', 'The body has text that is not valid Unicode (a \\u escape of half a surrogate pair).');
    }
    await next();
  };
}

/** True when the JSON text (already known to parse) nests objects or arrays deeper than `limit`; counted without recursion. */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return false;
}

/** Half of a UTF-16 surrogate pair with no other half: JSON's `\\uD800` escapes can make one, UTF-8 cannot carry it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when a string (a value or a key) anywhere in the parsed body holds a lone surrogate.
 * The database would store it as U+FFFD, so the text read back would not be the text sent:
 * such a body is refused instead. Recursion is safe here: the depth is already bounded.
 */
export function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value && typeof value === 'object') return Object.entries(value).some(([key, item]) => LONE_SURROGATE.test(key) || hasLoneSurrogate(item));
  return false;
}

function hasBody(headers: NodeJS.Dict<string | string[]>): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

function payloadTooLarge(): HttpError {
  return new HttpError(413, 'payload_too_large', `The body is larger than ${MAX_BODY_BYTES} bytes.`);
}

/**
 * Reads at most `limitBytes`. Past the limit it keeps draining (up to a bound) instead of
 * destroying the socket, so the client still reads the 413 answer.
 */
function readLimited(stream: NodeJS.ReadableStream, limitBytes: number): Promise<Buffer> {
  const drainLimitBytes = limitBytes * 16;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    stream.on('data', (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buffer.length;
      if (total <= limitBytes) chunks.push(buffer);
      else if (total > drainLimitBytes) reject(payloadTooLarge());
    });
    stream.on('end', () => (total > limitBytes ? reject(payloadTooLarge()) : resolve(Buffer.concat(chunks))));
    stream.on('error', reject);
  });
}

declare module 'koa' {
  interface Request {
    /** The parsed JSON body of a write, set by jsonBody(). */
    body?: unknown;
  }
}

import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Paths pino blanks out wherever they appear in a log line. */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers.cookie',
  'req.headers.cookie',
  'headers["set-cookie"]',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'password_hash',
  '*.password_hash',
  'accessToken',
  '*.accessToken',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'webhookSecret',
  '*.webhookSecret',
  'refreshToken',
  '*.refreshToken',
];

/**
 * A logger with secrets redacted: JSON lines to stdout, or to `destination` (tests capture it).
 * `pretty` turns the same lines into colored text for a person at a terminal (`npm run dev` asks
 * for it when its own output is one); redaction happens before, so it shows no more.
 */
export function createLogger(level: string, name: string, destination?: DestinationStream | 'pretty'): Logger {
  const options = { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: name } };
  if (destination === 'pretty') {
    return pino(options, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,name' }));
  }
  return destination ? pino(options, destination) : pino(options);
}

/**
 * What may be logged of an error: its name, code and a message. Database errors
 * carry the failing SQL with its bound values (which could hold a password
 * hash), so for them only the server's own message is kept; stacks never go out.
 */
export function describeError(error: unknown): { name: string; code?: string; message: string } {
  if (typeof error !== 'object' || error === null) return { name: 'NonError', message: String(error) };
  const { name, code, sqlMessage, message } = error as { name?: unknown; code?: unknown; sqlMessage?: unknown; message?: unknown };
  return {
    name: typeof name === 'string' ? name : 'Error',
    ...(typeof code === 'string' ? { code } : {}),
    message: typeof sqlMessage === 'string' ? sqlMessage : typeof message === 'string' ? message : 'unknown error',
  };
}

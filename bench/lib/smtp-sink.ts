import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** An SMTP server that accepts every e-mail the stack sends and keeps only a count. */
export interface SmtpSink {
  url: string;
  received(): number;
  /** Conversations that ended in a socket error (a client killed mid-conversation): counted, never thrown. */
  brokenConversations(): number;
  close(): Promise<void>;
}

/** Starts the sink on a free port of 127.0.0.1: the e-mail deliveries of the notify step succeed at once. */
export async function openSmtpSink(): Promise<SmtpSink> {
  let received = 0;
  let broken = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData: (stream, _session, callback) => {
      // A client that dies mid-message breaks the stream; its e-mail is simply not counted.
      stream.on('error', () => undefined);
      stream.on('end', () => {
        received += 1;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The server re-emits every connection's socket errors; a worker SIGKILLed mid-conversation
  // (ECONNRESET) must not crash the process that hosts the sink, whose stack it serves.
  server.on('error', () => {
    broken += 1;
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    brokenConversations: () => broken,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { connect, type Socket } from 'node:net';
import { createTransport } from 'nodemailer';
import { waitFor } from '../../scripts/lib/processes';
import { openSmtpSink, type SmtpSink } from './smtp-sink';

/** Sends SMTP lines one at a time, each after the server's answer to the previous one. */
async function converse(socket: Socket, lines: readonly string[]): Promise<void> {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
  });
  let answers = 1; // The greeting.
  await waitFor(() => buffered.split('\r\n').filter((line) => /^\d{3} /.test(line)).length >= answers, { timeoutMs: 5_000, what: 'the greeting' });
  for (const line of lines) {
    socket.write(`${line}\r\n`);
    answers += 1;
    await waitFor(() => buffered.split('\r\n').filter((reply) => /^\d{3} /.test(reply)).length >= answers, { timeoutMs: 5_000, what: `the answer to ${line}` });
  }
}

describe('the SMTP sink of the bench and the chaos run', () => {
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await openSmtpSink();
  });

  afterAll(async () => {
    await sink.close();
  });

  it('when a client is reset mid-message (ECONNRESET), then the sink counts a broken conversation, does not throw, and still accepts e-mails', async () => {
    const { port } = new URL(sink.url);
    const socket = connect(Number(port), '127.0.0.1');
    await converse(socket, ['EHLO worker', 'MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA']);
    // A TCP reset inside the transaction (after DATA), as a worker SIGKILLed mid-send leaves it.
    socket.resetAndDestroy();
    await waitFor(() => sink.brokenConversations() >= 1, { timeoutMs: 5_000, what: 'the sink to see the reset' });

    const transport = createTransport({ url: sink.url, ignoreTLS: true });
    await transport.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'whole', text: 'a whole message' });
    transport.close();
    expect(sink.received()).toBe(1);
  });
});

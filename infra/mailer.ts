import { createTransport } from 'nodemailer';

/** One e-mail, ready to go out. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** A stable Message-ID: a retried send carries the same one, so mail clients can drop a duplicate. */
  messageId: string;
}

/** What the e-mail activity needs from an SMTP client; tests may pass their own. */
export interface Mailer {
  /** Resolves once the server accepted the message; throws MailRejected when it refused it for good. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** The SMTP server refused the message for good (a 5xx answer other than 503): sending it again cannot help. */
export class MailRejected extends Error {
  constructor(
    message: string,
    readonly responseCode: number | undefined,
  ) {
    super(message);
    this.name = 'MailRejected';
  }
}

/** Limits on every wait of one SMTP conversation, so a hung server fails the attempt instead of holding it. */
const SMTP_TIMEOUTS_MS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, dnsTimeout: 10_000 } as const;

/** The fields of a nodemailer error that tell a refusal from an outage. */
interface SmtpError {
  code?: string;
  responseCode?: number;
  permanent?: boolean;
}

/**
 * A Mailer over SMTP (`smtp://` or `smtps://`, credentials in the URL). One connection per
 * message: notifications are few and a pool would hold connections to a server that may restart.
 * Errors carry no credentials: nodemailer's messages name the host and the SMTP reply only.
 */
export function createSmtpMailer(options: { smtpUrl: string; from: string }): Mailer {
  const transport = createTransport({ url: options.smtpUrl, ...SMTP_TIMEOUTS_MS }, { from: options.from });
  return {
    async send(mail) {
      try {
        await transport.sendMail({ to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
      } catch (error) {
        const smtp = error as SmtpError;
        if (smtp.permanent === true) throw new MailRejected((error as Error).message, smtp.responseCode);
        throw error;
      }
    },
    close() {
      transport.close();
    },
  };
}

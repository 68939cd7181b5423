import { formatAmount } from '../domain/money';

/**
 * Every e-mail SagaPay sends, in one place. A template turns a notification's
 * type and data into a subject and paragraphs; amounts are formatted for their
 * currency. A notification whose data lacks what its template needs still gets
 * a mail: its in-app title and body.
 */

/** What a template reads: the in-app notification and whom it is for. */
export interface EmailTemplateInput {
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  recipientName: string;
}

/** A rendered e-mail: plain text is the source, HTML is derived from it. */
export interface RenderedEmail {
  subject: string;
  text: string;
}

/** Longest subject we store (the notifications table's `title`). */
export const MAX_SUBJECT_LENGTH = 200;

/** Typed reads of a notification's data; undefined when a field is missing or of the wrong type. */
class Facts {
  constructor(readonly data: Record<string, unknown>) {}

  text(field: string): string | undefined {
    const value = this.data[field];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  }

  /** `12.34 USD` for an integer amount in minor units and the notification's currency. */
  money(field = 'amount'): string | undefined {
    const amount = this.data[field];
    const currency = this.text('currency');
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || !currency) return undefined;
    return `${formatAmount(amount, currency)} ${currency}`;
  }
}

type Template = (facts: Facts, input: EmailTemplateInput) => { subject: string; paragraphs: Array<string | undefined> } | undefined;

/** Why a payment failed, in words a payer understands. */
const FAILURE_REASONS: Record<string, string> = {
  insufficient_funds: 'there was not enough money in your wallet',
  wallet_frozen: 'a wallet involved is frozen',
  limit_exceeded: 'it would have gone over your 24-hour payment limit',
  recipient_is_merchant: 'the recipient is a merchant: pay merchants with a payment',
};

function reference(facts: Facts): string | undefined {
  const paymentId = facts.text('paymentId');
  if (paymentId) return `Payment reference: ${paymentId}`;
  const transferId = facts.text('transferId');
  return transferId ? `Transfer reference: ${transferId}` : undefined;
}

const TEMPLATES: Record<string, Template> = {
  welcome: (facts) => {
    const currency = facts.text('currency');
    if (!currency) return undefined;
    const promo = facts.money('promoCredit');
    const promoCredit = facts.data.promoCredit;
    return {
      subject: 'Welcome to SagaPay',
      paragraphs: [
        `Your SagaPay account is open and your ${currency} wallet is ready.`,
        promo && typeof promoCredit === 'number' && promoCredit > 0 ? `We added ${promo} to your wallet to get you started.` : undefined,
      ],
    };
  },
  payment_succeeded: (facts) => {
    const money = facts.money();
    const merchant = facts.text('merchantName') ?? 'the merchant';
    if (!money) return undefined;
    const description = facts.text('description');
    return {
      subject: `Receipt: you paid ${money} to ${merchant}`,
      paragraphs: [`You paid ${money} to ${merchant}.`, description ? `For: ${description}` : undefined, reference(facts)],
    };
  },
  payment_received: (facts) => {
    const money = facts.money();
    if (!money) return undefined;
    const fee = facts.money('fee');
    const net = facts.money('netAmount');
    return {
      subject: `Payment received: ${money}`,
      paragraphs: [
        `You received a payment of ${money}.`,
        fee && net ? `SagaPay fee: ${fee}. Credited to your wallet: ${net}.` : undefined,
        reference(facts),
      ],
    };
  },
  payment_failed: (facts) => {
    const money = facts.money();
    const merchant = facts.text('merchantName') ?? 'the merchant';
    if (!money) return undefined;
    const reason = FAILURE_REASONS[facts.text('failureCode') ?? ''];
    return {
      subject: `Payment failed: ${money} to ${merchant}`,
      paragraphs: [
        `Your payment of ${money} to ${merchant} did not go through${reason ? ` because ${reason}` : ''}. No money left your wallet.`,
        reference(facts),
      ],
    };
  },
  transfer_sent: (facts, input) => {
    const money = facts.money();
    return money ? { subject: `You sent ${money}`, paragraphs: [input.body, reference(facts)] } : undefined;
  },
  transfer_received: (facts, input) => {
    const money = facts.money();
    return money ? { subject: `You received ${money}`, paragraphs: [input.body, reference(facts)] } : undefined;
  },
  transfer_failed: (facts, input) => {
    const money = facts.money();
    return money ? { subject: `Transfer failed: ${money}`, paragraphs: [input.body, reference(facts)] } : undefined;
  },
};

/** One line, no control characters, at most `MAX_SUBJECT_LENGTH` characters. */
function subjectLine(subject: string): string {
  const line = subject.replace(/[\r\n\t]+/g, ' ').trim();
  return line.length > MAX_SUBJECT_LENGTH ? `${line.slice(0, MAX_SUBJECT_LENGTH - 1)}…` : line;
}

/** Renders the e-mail of a notification: its type's template, or its title and body when the data does not fit. */
export function renderEmail(input: EmailTemplateInput): RenderedEmail {
  const rendered = TEMPLATES[input.type]?.(new Facts(input.data), input) ?? { subject: input.title, paragraphs: [input.body] };
  const paragraphs = rendered.paragraphs.filter((paragraph): paragraph is string => paragraph !== undefined && paragraph !== '');
  const text = [`Hi ${input.recipientName},`, ...paragraphs, 'You can see all your notifications in the SagaPay app.', '— SagaPay'].join('\n\n');
  return { subject: subjectLine(rendered.subject), text: `${text}\n` };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The HTML part of a mail: each paragraph of the text, escaped. */
export function emailHtml(text: string): string {
  const paragraphs = text
    .trim()
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${paragraph.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character).replace(/\n/g, '<br>')}</p>`);
  return `<!doctype html><html><body style="font-family: sans-serif">${paragraphs.join('')}</body></html>`;
}

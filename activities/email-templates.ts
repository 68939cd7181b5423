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

/**
 * Dots, in ASCII and the ideographic and full-width forms that resolvers also read as dots, and
 * `://`: what makes a mail client turn text into a link.
 */
const DOT = '[.\u3002\uFF0E\uFF61]';
const DOMAIN_DOT = new RegExp(`([\\p{L}\\p{N}-])${DOT}(?=\\p{L}{2,})`, 'gu');
const IP_ADDRESS = new RegExp(`\\b\\d{1,3}(?:${DOT}\\d{1,3}){3}\\b`, 'gu');
const SCHEME = /:\/\//g;
/** Characters that are never shown, or that reorder what is shown around them: controls, zero-width and bidi formatting. */
const INVISIBLE_CHARACTERS = '\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u2069\\uFEFF';
const INVISIBLE = new RegExp(`[${INVISIBLE_CHARACTERS}]`, 'g');

/**
 * Someone's words made inert for a mail: one line, nothing invisible, and no web or mail address
 * a client could turn into a link (`evil.example/login` becomes `evil[.]example/login`,
 * `https://` becomes `https[:]//`). Written into the text itself, so the plain part, the HTML
 * part and every client agree, whatever their own link detection does.
 */
export function defang(text: string): string {
  return text
    .replace(INVISIBLE, ' ')
    .replace(SCHEME, '[:]//')
    .replace(DOMAIN_DOT, '$1[.]')
    .replace(IP_ADDRESS, (address) => address.replace(new RegExp(DOT, 'gu'), '[.]'));
}

/** What SagaPay says under every note it passes on: notes are not from us. */
export const NOTE_WARNING = 'This note was written by the sender, not by SagaPay. SagaPay never asks for your password, codes or card details, and never sends links, in a note.';

/** Marks a quoted line in the text part; the HTML part renders such lines as a quotation. */
const QUOTE_PREFIX = '> ';

/** A person's words, quoted as theirs under a line that says whose they are. */
function quotation(heading: string, words: string): string {
  return [`${heading}:`, `${QUOTE_PREFIX}${defang(words)}`].join('\n');
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
    const merchant = defang(facts.text('merchantName') ?? 'the merchant');
    if (!money) return undefined;
    const description = facts.text('description');
    return {
      subject: `Receipt: you paid ${money} to ${merchant}`,
      // The payer's own words, read only by the payer: shown inert, not quoted as someone else's.
      paragraphs: [`You paid ${money} to ${merchant}.`, description ? `For: ${defang(description)}` : undefined, reference(facts)],
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
    const merchant = defang(facts.text('merchantName') ?? 'the merchant');
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
  // Built from the data, not the in-app body: the note is the sender's, so it is quoted as theirs.
  transfer_received: (facts) => {
    const money = facts.money();
    if (!money) return undefined;
    const sender = defang(facts.text('senderName') ?? 'Someone');
    const note = facts.text('note');
    return {
      subject: `You received ${money}`,
      paragraphs: [`${sender} sent you ${money}.`, note ? quotation(`Note from ${sender}`, note) : undefined, note ? NOTE_WARNING : undefined, reference(facts)],
    };
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
  const text = [`Hi ${defang(input.recipientName)},`, ...paragraphs, 'You can see all your notifications in the SagaPay app.', '— SagaPay'].join('\n\n');
  return { subject: subjectLine(rendered.subject), text: `${text}\n` };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);

/** One paragraph of the text as HTML: its own lines, then its quoted lines (`> `) set apart as a quotation. */
function paragraphHtml(paragraph: string): string {
  const lines = paragraph.split('\n');
  const own = lines.filter((line) => !line.startsWith(QUOTE_PREFIX)).map(escapeHtml);
  const quoted = lines.filter((line) => line.startsWith(QUOTE_PREFIX)).map((line) => escapeHtml(line.slice(QUOTE_PREFIX.length)));
  const ownHtml = own.length > 0 ? `<p>${own.join('<br>')}</p>` : '';
  const quotedHtml = quoted.length > 0 ? `<blockquote style="margin: 0 0 1em; padding: 0.5em 1em; border-left: 3px solid #999; color: #333">${quoted.join('<br>')}</blockquote>` : '';
  return ownHtml + quotedHtml;
}

/** The HTML part of a mail: each paragraph of the text, escaped; quoted lines as a quotation. */
export function emailHtml(text: string): string {
  const paragraphs = text.trim().split(/\n{2,}/).map(paragraphHtml);
  return `<!doctype html><html><body style="font-family: sans-serif">${paragraphs.join('')}</body></html>`;
}

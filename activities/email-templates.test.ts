import { emailHtml, MAX_SUBJECT_LENGTH, renderEmail, type EmailTemplateInput } from './email-templates';

const base = (type: string, data: Record<string, unknown>): EmailTemplateInput => ({ type, title: 'In-app title', body: 'In-app body.', data, recipientName: 'Ada' });

describe('renderEmail', () => {
  it.each([
    ['welcome', { currency: 'USD', promoCredit: 10_000 }, 'Welcome to SagaPay', ['your USD wallet is ready', 'We added 100.00 USD']],
    ['payment_succeeded', { paymentId: 'pay_1', amount: 1_234, currency: 'USD', merchantName: 'Acme', description: 'Beans' }, 'Receipt: you paid 12.34 USD to Acme', ['You paid 12.34 USD to Acme.', 'For: Beans', 'Payment reference: pay_1']],
    ['payment_received', { paymentId: 'pay_1', amount: 1_234, currency: 'EUR', fee: 25, netAmount: 1_209 }, 'Payment received: 12.34 EUR', ['SagaPay fee: 0.25 EUR. Credited to your wallet: 12.09 EUR.']],
    ['payment_failed', { paymentId: 'pay_1', amount: 5, currency: 'GBP', merchantName: 'Acme', failureCode: 'insufficient_funds' }, 'Payment failed: 0.05 GBP to Acme', ['because there was not enough money in your wallet', 'No money left your wallet.']],
    ['transfer_sent', { transferId: 'trf_1', amount: 100_000, currency: 'INR' }, 'You sent 1000.00 INR', ['In-app body.', 'Transfer reference: trf_1']],
    ['transfer_received', { transferId: 'trf_1', amount: 1, currency: 'USD' }, 'You received 0.01 USD', ['In-app body.']],
    ['transfer_failed', { transferId: 'trf_1', amount: 99, currency: 'USD' }, 'Transfer failed: 0.99 USD', ['In-app body.']],
  ])('when a %s e-mail is rendered, then its subject and text carry the amount formatted for the currency', (type, data, subject, lines) => {
    const email = renderEmail(base(type, data));
    expect(email.subject).toBe(subject);
    expect(email.text.startsWith('Hi Ada,\n\n')).toBe(true);
    for (const line of lines) expect(email.text).toContain(line);
    expect(email.text).toContain('— SagaPay');
  });

  it('when a welcome has no promotional credit, then it does not mention one', () => {
    expect(renderEmail(base('welcome', { currency: 'USD', promoCredit: 0 })).text).not.toContain('We added');
  });

  it.each([
    ['an unknown type', 'refund_issued', { amount: 1, currency: 'USD' }],
    ['an amount that is not an integer', 'payment_succeeded', { amount: 12.5, currency: 'USD' }],
    ['a missing currency', 'payment_received', { amount: 100 }],
  ])('when the data has %s, then the mail falls back to the in-app title and body', (_what, type, data) => {
    expect(renderEmail(base(type, data))).toEqual({ subject: 'In-app title', text: 'Hi Ada,\n\nIn-app body.\n\nYou can see all your notifications in the SagaPay app.\n\n— SagaPay\n' });
  });

  it('when a subject would be long or hold line breaks, then it is one line of at most 200 characters', () => {
    const email = renderEmail({ ...base('unknown', {}), title: `Line\r\nBcc: someone@example.test ${'x'.repeat(300)}` });
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject.length).toBe(MAX_SUBJECT_LENGTH);
  });
});

describe('emailHtml', () => {
  it('when text holds markup, then the HTML escapes it and keeps the paragraphs', () => {
    expect(emailHtml('Hi <b>Ada</b> & co,\n\nline one\nline two\n')).toContain('<p>Hi &lt;b&gt;Ada&lt;/b&gt; &amp; co,</p><p>line one<br>line two</p>');
  });
});

import { defang, emailHtml, MAX_SUBJECT_LENGTH, NOTE_WARNING, renderEmail, type EmailTemplateInput } from './email-templates';

const base = (type: string, data: Record<string, unknown>): EmailTemplateInput => ({ type, title: 'In-app title', body: 'In-app body.', data, recipientName: 'Ada' });

describe('renderEmail', () => {
  it.each([
    ['welcome', { currency: 'USD', promoCredit: 10_000 }, 'Welcome to SagaPay', ['your USD wallet is ready', 'We added 100.00 USD']],
    ['payment_succeeded', { paymentId: 'pay_1', amount: 1_234, currency: 'USD', merchantName: 'Acme', description: 'Beans' }, 'Receipt: you paid 12.34 USD to Acme', ['You paid 12.34 USD to Acme.', 'For: Beans', 'Payment reference: pay_1']],
    ['payment_received', { paymentId: 'pay_1', amount: 1_234, currency: 'EUR', fee: 25, netAmount: 1_209 }, 'Payment received: 12.34 EUR', ['SagaPay fee: 0.25 EUR. Credited to your wallet: 12.09 EUR.']],
    ['payment_failed', { paymentId: 'pay_1', amount: 5, currency: 'GBP', merchantName: 'Acme', failureCode: 'insufficient_funds' }, 'Payment failed: 0.05 GBP to Acme', ['because there was not enough money in your wallet', 'No money left your wallet.']],
    ['transfer_sent', { transferId: 'trf_1', amount: 100_000, currency: 'INR' }, 'You sent 1000.00 INR', ['In-app body.', 'Transfer reference: trf_1']],
    ['transfer_received', { transferId: 'trf_1', amount: 1, currency: 'USD', senderName: 'Bo' }, 'You received 0.01 USD', ['Bo sent you 0.01 USD.', 'Transfer reference: trf_1']],
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

describe('a person’s words in an e-mail', () => {
  const phishing = 'SECURITY ALERT: your account is locked, verify at http://evil.example/login or www.evil.example';
  const received = () => renderEmail(base('transfer_received', { transferId: 'trf_1', amount: 500, currency: 'USD', senderName: 'Alice', note: phishing }));

  it('when a transfer carries a note, then the e-mail quotes it as the sender’s, set apart, under SagaPay’s warning', () => {
    const { text } = received();
    expect(text).toContain('Alice sent you 5.00 USD.\n\nNote from Alice:\n> SECURITY ALERT: your account is locked, verify at http[:]//evil[.]example/login or www[.]evil[.]example\n\n');
    expect(text).toContain(NOTE_WARNING);
    expect(text.indexOf(NOTE_WARNING)).toBeGreaterThan(text.indexOf('> SECURITY ALERT'));
    // The note appears only inside the quotation: no line of SagaPay's own starts with it.
    expect(text.split('\n').filter((line) => line.includes('SECURITY ALERT'))).toEqual(['> SECURITY ALERT: your account is locked, verify at http[:]//evil[.]example/login or www[.]evil[.]example']);
  });

  it('when the HTML part is made, then the note is a quotation, escaped, and nothing in it is a link or reads as an address', () => {
    const html = emailHtml(received().text);
    expect(html).toContain('<p>Note from Alice:</p><blockquote');
    expect(html).toMatch(/<blockquote[^>]*>SECURITY ALERT: your account is locked, verify at http\[:\]\/\/evil\[\.\]example\/login or www\[\.\]evil\[\.\]example<\/blockquote>/);
    expect(html).not.toMatch(/<a\b|href=|https?:\/\/|evil\.example|www\.evil/i);
  });

  it('when there is no note, then there is no quotation and no warning', () => {
    const { text } = renderEmail(base('transfer_received', { transferId: 'trf_1', amount: 500, currency: 'USD', senderName: 'Alice', note: null }));
    expect(text).not.toContain('Note from');
    expect(text).not.toContain(NOTE_WARNING);
  });

  it('when a name or a description reads as an address, then it is shown inert too', () => {
    const { subject, text } = renderEmail(base('payment_succeeded', { paymentId: 'pay_1', amount: 100, currency: 'USD', merchantName: 'login.evil.example', description: 'see https://evil.example' }));
    expect(subject).toBe('Receipt: you paid 1.00 USD to login[.]evil[.]example');
    expect(text).toContain('For: see https[:]//evil[.]example');
    expect(text).not.toContain('evil.example');
  });

  it.each([
    ['http://evil.example/login', 'http[:]//evil[.]example/login'],
    ['HTTPS://EVIL.EXAMPLE', 'HTTPS[:]//EVIL[.]EXAMPLE'],
    ['mail me at alice@evil.example', 'mail me at alice@evil[.]example'],
    ['evil。example and evil．example', 'evil[.]example and evil[.]example'],
    ['go to 93.184.216.34/x', 'go to 93[.]184[.]216[.]34/x'],
    ['see you at 5.30, it costs 12.50, e.g. lunch', 'see you at 5.30, it costs 12.50, e.g. lunch'],
    ['right\u202Eleft\u200Bzero\nline', 'right left zero line'],
    ['Lunch 🍜 money', 'Lunch 🍜 money'],
  ])('when %j is made inert, then it reads %j', (input, output) => {
    expect(defang(input)).toBe(output);
  });
});

describe('emailHtml', () => {
  it('when text holds markup, then the HTML escapes it and keeps the paragraphs', () => {
    expect(emailHtml('Hi <b>Ada</b> & co,\n\nline one\nline two\n')).toContain('<p>Hi &lt;b&gt;Ada&lt;/b&gt; &amp; co,</p><p>line one<br>line two</p>');
  });
});

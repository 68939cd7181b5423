import { DEFAULT_RISK_RULES, evaluateRisk, type RiskFacts, type RiskRules } from './risk';

const RULES: RiskRules = {
  velocityMaxCount: 3,
  velocityMaxAmount: 10_000,
  velocityWindowMs: 3_600_000,
  newAccountAgeMs: 86_400_000,
  newAccountMaxAmount: 5_000,
  newRecipientReviewAmount: 2_000,
  reviewTimeoutMs: 60_000,
};

/** A payment the rules above allow: an old account, a known recipient, nothing recent. */
const CALM: RiskFacts = { kind: 'payment', amount: 1_000, blocklisted: false, recentCount: 0, recentAmount: 0, accountAgeMs: 30 * 86_400_000, knownRecipient: true };

describe('evaluateRisk', () => {
  it.each<[string, Partial<RiskFacts>, Partial<RiskRules>, { outcome: string; rule: string | null }]>([
    ['nothing trips', {}, {}, { outcome: 'allow', rule: null }],
    ['the payer is blocklisted', { blocklisted: true }, {}, { outcome: 'decline', rule: 'blocklist' }],
    // velocity_count: this saga counts too, so 2 recent + 1 = 3 is at the limit, 3 + 1 is over it.
    ['the count reaches the limit', { recentCount: 2 }, {}, { outcome: 'allow', rule: null }],
    ['the count passes the limit', { recentCount: 3 }, {}, { outcome: 'decline', rule: 'velocity_count' }],
    ['the sum reaches the limit', { recentAmount: 9_000 }, {}, { outcome: 'allow', rule: null }],
    ['the sum passes the limit by 1', { recentAmount: 9_001 }, {}, { outcome: 'decline', rule: 'velocity_amount' }],
    ['velocity is off (0)', { recentCount: 1_000, recentAmount: 1_000_000 }, { velocityMaxCount: 0, velocityMaxAmount: 0 }, { outcome: 'allow', rule: null }],
    ['a new account sends its most', { accountAgeMs: 1_000, amount: 5_000 }, {}, { outcome: 'allow', rule: null }],
    ['a new account sends more', { accountAgeMs: 1_000, amount: 5_001 }, { velocityMaxAmount: 0 }, { outcome: 'decline', rule: 'new_account' }],
    ['an account exactly as old as the age limit', { accountAgeMs: 86_400_000, amount: 9_000 }, {}, { outcome: 'allow', rule: null }],
    ['the new-account rule is off', { accountAgeMs: 0, amount: 9_000 }, { newAccountAgeMs: 0 }, { outcome: 'allow', rule: null }],
    ['a first payment at the review amount', { knownRecipient: false, amount: 2_000 }, {}, { outcome: 'allow', rule: null }],
    ['a first payment above the review amount', { knownRecipient: false, amount: 2_001 }, {}, { outcome: 'review', rule: 'new_recipient' }],
    ['a first transfer above the review amount', { kind: 'transfer', knownRecipient: false, amount: 2_001 }, {}, { outcome: 'decline', rule: 'new_recipient' }],
    ['a known recipient above the review amount', { knownRecipient: true, amount: 4_000 }, {}, { outcome: 'allow', rule: null }],
    ['the new-recipient rule is off', { knownRecipient: false, amount: 4_000 }, { newRecipientReviewAmount: 0 }, { outcome: 'allow', rule: null }],
    ['a review and a decline at once: decline wins', { knownRecipient: false, amount: 2_001, recentCount: 5 }, {}, { outcome: 'decline', rule: 'velocity_count' }],
    ['two declines: the first rule in order names it', { blocklisted: true, recentCount: 5 }, {}, { outcome: 'decline', rule: 'blocklist' }],
  ])('when %s, then the verdict is as expected', (_case, facts, rules, expected) => {
    const verdict = evaluateRisk({ ...CALM, ...facts }, { ...RULES, ...rules });

    expect({ outcome: verdict.outcome, rule: verdict.rule }).toEqual(expected);
  });

  it('when it evaluates, then every rule answers once, in order', () => {
    const verdict = evaluateRisk({ ...CALM, blocklisted: true, knownRecipient: false, amount: 2_500 }, RULES);

    expect(verdict.results).toEqual([
      { rule: 'blocklist', outcome: 'decline' },
      { rule: 'velocity_count', outcome: 'allow' },
      { rule: 'velocity_amount', outcome: 'allow' },
      { rule: 'new_account', outcome: 'allow' },
      { rule: 'new_recipient', outcome: 'review' },
    ]);
  });

  it('when the defaults apply, then only the blocklist can refuse', () => {
    const busy: RiskFacts = { kind: 'payment', amount: 99_000_000, blocklisted: false, recentCount: 10_000, recentAmount: 10 ** 12, accountAgeMs: 0, knownRecipient: false };

    expect(evaluateRisk(busy, DEFAULT_RISK_RULES).outcome).toBe('allow');
    expect(evaluateRisk({ ...busy, blocklisted: true }, DEFAULT_RISK_RULES)).toMatchObject({ outcome: 'decline', rule: 'blocklist' });
  });

  it.each([0, -5, 1.5, Number.MAX_SAFE_INTEGER + 1])('when the amount is %p, then it throws', (amount) => {
    expect(() => evaluateRisk({ ...CALM, amount }, RULES)).toThrow(/positive whole amount/);
  });
});

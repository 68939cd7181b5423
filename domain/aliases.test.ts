import { aliasProblem, displayAlias, normaliseAlias } from './aliases';

describe('normaliseAlias and aliasProblem', () => {
  it.each([
    ['@Ada_99', 'ada_99', null],
    ['ada', 'ada', null],
    ['  @BEA  ', 'bea', null],
    ['@abc', 'abc', null],
    ['@ab', 'ab', 'format'],
    [`@${'a'.repeat(30)}`, 'a'.repeat(30), null],
    [`@${'a'.repeat(31)}`, 'a'.repeat(31), 'format'],
    ['@@ada', '@ada', 'format'],
    ['@ada-lovelace', 'ada-lovelace', 'format'],
    ['@adä', 'adä', 'format'],
    ['@ada lovelace', 'ada lovelace', 'format'],
    ['', '', 'format'],
    ['@Admin', 'admin', 'reserved'],
    ['@SUPPORT', 'support', 'reserved'],
    ['@www', 'www', 'reserved'],
    ['@sagapay_help', 'sagapay_help', 'reserved'],
    ['@the_sagapay', 'the_sagapay', 'reserved'],
    ['@admins', 'admins', null],
  ])('when %j is typed, then it normalises to %j and its problem is %j', (typed, normalised, problem) => {
    expect(normaliseAlias(typed)).toBe(normalised);
    expect(aliasProblem(normaliseAlias(typed))).toBe(problem);
  });

  it('when a handle is shown, then it carries its @', () => {
    expect(displayAlias('ada')).toBe('@ada');
  });
});

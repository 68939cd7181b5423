import { aliasProblem, displayAlias, foldLookAlikes, normaliseAlias } from './aliases';

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
    ['@admins', 'admins', 'reserved'],
    ['@admin_', 'admin_', 'reserved'],
    ['@_admin', '_admin', 'reserved'],
    ['@adm1n', 'adm1n', 'reserved'],
    ['@4dm1n', '4dm1n', 'reserved'],
    ['@support_team', 'support_team', 'reserved'],
    ['@5upp0rt', '5upp0rt', 'reserved'],
    ['@security_team', 'security_team', 'reserved'],
    ['@s3cur1ty', 's3cur1ty', 'reserved'],
    ['@secur_ity', 'secur_ity', 'reserved'],
    ['@saga_pay', 'saga_pay', 'reserved'],
    ['@s4gapay', 's4gapay', 'reserved'],
    ['@5aga_p4y', '5aga_p4y', 'reserved'],
    ['@r00t', 'r00t', 'reserved'],
    ['@he1p', 'he1p', 'reserved'],
    ['@alice', 'alice', null],
    ['@sam_2', 'sam_2', null],
    ['@bob_the_builder', 'bob_the_builder', null],
    ['@ada_99', 'ada_99', null],
    ['@support', 'support', 'reserved'],
    ['@sup_port', 'sup_port', 'reserved'],
    ['@supper', 'supper', null],
    ['@secure_saga', 'secure_saga', null],
    ['@paysaga', 'paysaga', null],
  ])('when %j is typed, then it normalises to %j and its problem is %j', (typed, normalised, problem) => {
    expect(normaliseAlias(typed)).toBe(normalised);
    expect(aliasProblem(normaliseAlias(typed))).toBe(problem);
  });

  it.each([
    ['s4ga_pay', 'sagapay'],
    ['adm1n', 'admin'],
    ['h3llo_w0rld', 'heiioworid'],
    ['b0b_7', 'bobt'],
  ])('when %j is folded, then it reads %j', (alias, folded) => {
    expect(foldLookAlikes(alias)).toBe(folded);
  });

  it('when a handle is shown, then it carries its @', () => {
    expect(displayAlias('ada')).toBe('@ada');
  });
});

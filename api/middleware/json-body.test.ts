import { hasLoneSurrogate, MAX_BODY_DEPTH, nestingExceeds } from './json-body';

describe('nestingExceeds', () => {
  it.each([
    ['{}', 1, false],
    ['{"a":{"b":[1,2]}}', 3, false],
    ['{"a":{"b":[1,2]}}', 2, true],
    ['[[[]]]', 3, false],
    ['[[[[]]]]', 3, true],
    ['{"text":"[[[[[[{{{{"}', 1, false],
    ['{"text":"quote \\" then [[[["}', 1, false],
    ['{"text":"backslash \\\\","x":[[1]]}', 2, true],
    ['"[[[["', 0, false],
    ['[1,[2],[3],[4]]', 2, false],
  ])('when %s is checked against %p levels, then it exceeds: %p', (text, limit, expected) => {
    expect(JSON.parse(text)).toBeDefined();
    expect(nestingExceeds(text, limit)).toBe(expected);
  });

  it('when a body is 64 KiB of brackets, then it is refused after the limit without recursion', () => {
    const text = `${'['.repeat(32_768)}${']'.repeat(32_768)}`;
    expect(nestingExceeds(text, MAX_BODY_DEPTH)).toBe(true);
    expect(nestingExceeds(`${'['.repeat(MAX_BODY_DEPTH)}${']'.repeat(MAX_BODY_DEPTH)}`, MAX_BODY_DEPTH)).toBe(false);
  });
});

describe('hasLoneSurrogate', () => {
  it.each([
    ['{"a":"plain"}', false],
    ['{"a":"😀 \\ud83d\\ude00"}', false],
    ['{"a":"\\ud800"}', true],
    ['{"a":"end \\udc00"}', true],
    ['{"a":["ok",{"b":"x\\ud83d"}]}', true],
    ['{"\\udfff":1}', true],
  ])('when %s is parsed, then a lone surrogate is found: %p', (text, expected) => {
    expect(hasLoneSurrogate(JSON.parse(text))).toBe(expected);
  });
});

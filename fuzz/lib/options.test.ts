import { parseFuzzOptions } from './options';

describe('npm run fuzz options', () => {
  it('when no flag is given, then 10,000 requests with a fresh seed', () => {
    expect(parseFuzzOptions([], () => 7)).toEqual({ requests: 10_000, seed: 7, path: undefined, outputDir: '.data/fuzz', progressEvery: 500 });
  });

  it('when a seed and a replay path are given, then the run replays them', () => {
    expect(parseFuzzOptions(['--seed=-12', '--path', '41:0:2', '--requests', '50'])).toMatchObject({ seed: -12, path: '41:0:2', requests: 50 });
  });

  it.each([
    [['--requests', '0'], '--requests must be a whole number'],
    [['--requests', '1.5'], '--requests must be a whole number'],
    [['--seed', 'abc'], '--seed must be a whole number'],
    [['--path', 'x'], '--path must be'],
    [['--nope'], "Unknown option '--nope'"],
  ])('when given %j, then it refuses with a reason', (argv, reason) => {
    expect(() => parseFuzzOptions(argv)).toThrow(reason);
  });
});

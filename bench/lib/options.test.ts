import { parseBenchOptions } from './options';

describe('parseBenchOptions', () => {
  it('when no flag is given, then four levels of 15 s run every scenario with the ceiling', () => {
    expect(parseBenchOptions([])).toEqual({
      levels: [1, 8, 32, 64],
      durationS: 15,
      scenarios: ['uniform', 'hot-merchant', 'two-workers'],
      customers: 1_000,
      merchants: 10,
      ceiling: true,
      outputDir: 'bench/results',
      quick: false,
    });
  });

  it('when --quick is given, then the defaults shrink but explicit flags still win', () => {
    expect(parseBenchOptions(['--quick'])).toMatchObject({ levels: [1, 8], durationS: 4, quick: true });
    expect(parseBenchOptions(['--quick', '--levels', '2', '--duration', '9'])).toMatchObject({ levels: [2], durationS: 9 });
  });

  it('when levels and scenarios come in any order, then levels are sorted and scenarios run in their fixed order', () => {
    const options = parseBenchOptions(['--levels', '32,1,8', '--scenarios', 'two-workers,uniform', '--no-ceiling']);
    expect(options).toMatchObject({ levels: [1, 8, 32], scenarios: ['uniform', 'two-workers'], ceiling: false });
  });

  it.each([
    [['--levels', '0'], /--levels must be a whole number from 1 to 512/],
    [['--levels', '8,x'], /--levels/],
    [['--levels', '8,8'], /must not repeat/],
    [['--duration', '1.5'], /--duration/],
    [['--scenarios', 'uniform,cold'], /--scenarios must list some of uniform, hot-merchant, two-workers, got "cold"/],
    [['--customers', '999'], /--customers must be a whole number from 1000/],
    [['--merchants', '9'], /--merchants/],
  ])('when the flags are %j, then they are refused with a message naming the flag', (argv, message) => {
    expect(() => parseBenchOptions(argv)).toThrow(message);
  });

  it('when a flag is unknown, then it is refused', () => {
    expect(() => parseBenchOptions(['--fast'])).toThrow(/Unknown option '--fast'/);
  });
});

import { parseChaosOptions, parseFaults } from './options';
import { FAULTS } from './schedule';

describe('parseChaosOptions', () => {
  it('when nothing is given, then every fault runs for the default duration and the report goes to docs/reliability.md', () => {
    const options = parseChaosOptions([]);
    expect(options).toEqual(expect.objectContaining({ durationS: 330, seed: 1, faults: [...FAULTS], reportPath: 'docs/reliability.md', paymentsWorkers: 2 }));
  });

  it('when faults are listed in another order, then they keep the schedule’s order', () => {
    expect(parseFaults('database-restart, payments-worker-kill')).toEqual(['payments-worker-kill', 'database-restart']);
  });

  it.each([
    [['--faults', 'meteor-strike'], '--faults must list some of'],
    [['--duration', '20'], '--duration must be at least 210 s for 10 faults'],
    [['--duration', '1.5'], '--duration must be a whole number'],
    [['--seed=-1'], '--seed must be a whole number'],
    [['--concurrency', '0'], '--concurrency must be a whole number from 1'],
  ])('when %j is given, then it is refused naming the flag', (argv, message) => {
    expect(() => parseChaosOptions(argv)).toThrow(message);
  });

  it('when --no-report is given, then no report is written', () => {
    expect(parseChaosOptions(['--no-report', '--faults', 'api-kill', '--duration', '30']).reportPath).toBeNull();
  });
});

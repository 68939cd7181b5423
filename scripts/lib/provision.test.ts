import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall, ensureComponent, MARIADB_SERVER, PIP, planInstall, type CommandRunner, type HostFacts } from './provision';

const debianRoot: HostFacts = { platform: 'linux', isRoot: true, passwordlessSudo: false, hasAptGet: true, autoInstall: true };

describe('planInstall', () => {
  test.each([
    ['root on Debian', debianRoot, { kind: 'apt', sudo: false }],
    ['a user with password-less sudo', { ...debianRoot, isRoot: false, passwordlessSudo: true }, { kind: 'apt', sudo: true }],
  ])('when %s lacks the MariaDB binaries, then they are installed with apt-get', (_name, host, expected) => {
    expect(planInstall(MARIADB_SERVER, host)).toEqual(expected);
  });

  test('when a user without password-less sudo lacks them, then the message gives the apt-get command and the alternative', () => {
    const plan = planInstall(MARIADB_SERVER, { ...debianRoot, isRoot: false });
    expect(plan.kind).toBe('explain');
    const message = plan.kind === 'explain' ? plan.message : '';
    expect(message).toContain('sudo apt-get install -y --no-install-recommends mariadb-server-core mariadb-client-core');
    expect(message).toContain('mariadb-server');
    expect(message).toContain('DATABASE_URL');
  });

  test('when the machine is a Mac, then the message is the one brew command, even for root', () => {
    const plan = planInstall(MARIADB_SERVER, { ...debianRoot, platform: 'darwin', hasAptGet: false });
    expect(plan.kind).toBe('explain');
    expect(plan.kind === 'explain' && plan.message).toContain('run `brew install mariadb`');
  });

  test.each([
    ['Linux without apt-get', { ...debianRoot, hasAptGet: false }],
    ['Windows', { ...debianRoot, platform: 'win32' as const, hasAptGet: false }],
  ])('when the machine is %s, then nothing is installed and the message names the packages', (_name, host) => {
    const plan = planInstall(MARIADB_SERVER, host);
    expect(plan.kind).toBe('explain');
    expect(plan.kind === 'explain' && plan.message).toMatch(/no apt-get.*mariadb-server-core/);
  });

  test('when SAGAPAY_AUTO_INSTALL=false, then even root only gets the command', () => {
    const plan = planInstall(PIP, { ...debianRoot, autoInstall: false });
    expect(plan.kind === 'explain' && plan.message).toContain('apt-get install -y --no-install-recommends python3-pip');
  });
});

/** A fake root shell: `tee`, `chmod` and `rm` act on the files, apt-get answers from `aptExitCodes`. */
function fakeRunner(policyFile: string, aptExitCodes: number[]) {
  const calls: string[] = [];
  let policyPresentDuringInstall: boolean[] = [];
  const run: CommandRunner = (command, args, options) => {
    calls.push([command, ...args].join(' '));
    const effective = command === 'sudo' ? args.slice(1) : args;
    const program = command === 'sudo' ? args[1] : command;
    if (program === 'tee') writeFileSync(policyFile, options.input ?? '');
    if (program === 'rm') rmSync(policyFile, { force: true });
    if (program === 'env' && effective.includes('install')) {
      policyPresentDuringInstall = [...policyPresentDuringInstall, existsSync(policyFile)];
      options.onLine('Setting up mariadb-server-core ...');
      return Promise.resolve(aptExitCodes.shift() ?? 0);
    }
    return Promise.resolve(0);
  };
  return { run, calls, policyPresentDuringInstall: () => policyPresentDuringInstall };
}

describe('aptInstall', () => {
  let directory: string;
  let policyFile: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'sagapay-provision-'));
    policyFile = join(directory, 'policy-rc.d');
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  test('when root installs, then a policy-rc.d refusing every service start is in place during apt-get and removed after', async () => {
    const fake = fakeRunner(policyFile, [0]);
    const lines: string[] = [];
    await aptInstall(MARIADB_SERVER, { sudo: false, run: fake.run, policyFile, say: (line) => lines.push(line) });

    expect(fake.calls).toEqual([
      `tee ${policyFile}`,
      `chmod 755 ${policyFile}`,
      'apt-get -q update',
      'env DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends -o DPkg::Lock::Timeout=300 install mariadb-server-core mariadb-client-core',
      `rm -f ${policyFile}`,
    ]);
    expect(fake.policyPresentDuringInstall()).toEqual([true]);
    expect(existsSync(policyFile)).toBe(false);
    expect(lines[0]).toMatch(/^Installing MariaDB server binaries with apt-get; no system service will be started/);
    expect(lines).toContain('  [apt-get] Setting up mariadb-server-core ...');
    expect(lines.at(-1)).toMatch(/^Installed mariadb-server-core mariadb-client-core in \d+ s$/);
  });

  test('when the first package set does not exist, then the next one is installed, through sudo', async () => {
    const fake = fakeRunner(policyFile, [100, 0]);
    await aptInstall(MARIADB_SERVER, { sudo: true, run: fake.run, policyFile, say: () => undefined });

    const installs = fake.calls.filter((call) => call.includes(' install '));
    expect(installs.map((call) => call.split(' install ')[1])).toEqual(['mariadb-server-core mariadb-client-core', 'mariadb-server']);
    expect(fake.calls.every((call) => call.startsWith('sudo -n '))).toBe(true);
    expect(fake.policyPresentDuringInstall()).toEqual([true, true]);
    expect(existsSync(policyFile)).toBe(false);
  });

  test('when a policy-rc.d already exists, then it is used as it is and left in place', async () => {
    writeFileSync(policyFile, '#!/bin/sh\nexit 101\n# the administrator\'s own\n');
    const fake = fakeRunner(policyFile, [0]);
    await aptInstall(PIP, { sudo: false, run: fake.run, policyFile, say: () => undefined });

    expect(fake.calls.some((call) => call.startsWith('tee') || call.startsWith('rm'))).toBe(false);
    expect(readFileSync(policyFile, 'utf8')).toContain("the administrator's own");
  });

  test('when every package set fails, then it throws naming what was tried, and the policy file is removed', async () => {
    const fake = fakeRunner(policyFile, [100, 100]);
    const installing = aptInstall(MARIADB_SERVER, { sudo: false, run: fake.run, policyFile, say: () => undefined });

    await expect(installing).rejects.toThrow(/tried mariadb-server-core mariadb-client-core \(exit 100\), mariadb-server \(exit 100\)/);
    expect(existsSync(policyFile)).toBe(false);
  });
});

describe('ensureComponent', () => {
  test('when the component is present, then the machine is not even inspected', async () => {
    await expect(ensureComponent(MARIADB_SERVER, () => true, { ...debianRoot, hasAptGet: false })).resolves.toBeUndefined();
  });

  test('when it is missing and cannot be installed here, then the error is the plan\'s message', async () => {
    await expect(ensureComponent(MARIADB_SERVER, () => false, { ...debianRoot, platform: 'darwin', hasAptGet: false })).rejects.toThrow(
      'Missing MariaDB server binaries: run `brew install mariadb`, or set DATABASE_URL (TEST_DATABASE_URL for the tests) to any MySQL 8 server.',
    );
  });
});

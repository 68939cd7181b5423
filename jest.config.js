// CommonJS on purpose: a jest.config.ts would need ts-node just to be read.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.data/'],
  modulePathIgnorePatterns: ['<rootDir>/.data/'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022', keepClassNames: true },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  // Started once per run: a private MariaDB, a Temporal dev server and the workflow bundle.
  globalSetup: './test/global-setup.ts',
  setupFiles: ['./test/setup-runtime.ts'],
  globalTeardown: './test/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};

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
    // ESM-only packages, compiled to CommonJS for jest's module system (Node runs them as they are).
    '^.+/node_modules/(jose)/.+\\.js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // node_modules is not transformed, except the ESM-only packages above.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  // Started once per run: a private MariaDB, a Temporal dev server and the workflow bundle.
  globalSetup: './test/global-setup.ts',
  setupFiles: ['./test/setup-runtime.ts'],
  globalTeardown: './test/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};

// Three tiers: unit (pure code, seconds), integration (real Kafka/NATS/S3), e2e (real processes).
const swcTransform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
    },
  ],
};

const moduleNameMapper = {
  '^@parley/(raft|gossip|crdt|decision|resilience|snapshot|sim|replica|config|common|app-kit|command-log-api|decision-api-contract|client)$':
    '<rootDir>/libs/$1/src',
};

const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: swcTransform,
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The local servers' state (.infra: the S3 server keeps snapshot objects as *.snap files) and
  // build output are not sources: jest would take those files for obsolete test snapshots.
  modulePathIgnorePatterns: [
    '<rootDir>/.infra/',
    '<rootDir>/dist/',
    '<rootDir>/libs/client/dist/',
    '<rootDir>/.data/',
  ],
};

module.exports = {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{apps,libs}/**/*.spec.ts',
        '<rootDir>/test/static/**/*.spec.ts',
        // Every decoder under fast-check (PARLEY_FUZZ_RUNS inputs each, 2,000 by default).
        '<rootDir>/test/fuzz/**/*.spec.ts',
      ],
    },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};

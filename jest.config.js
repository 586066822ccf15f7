/**
 * Tests run from TypeScript through SWC. Unit tests need nothing else; integration tests get a real Kafka
 * broker (test/setup) and spawn the compiled CLI in dist/ (npm test builds first).
 */
const base = { testEnvironment: 'node', transform: { '^.+\\.ts$': ['@swc/jest'] } };
module.exports = {
  projects: [
    { ...base, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    {
      ...base,
      displayName: 'integration',
      roots: ['<rootDir>/test/integration'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
  testTimeout: 120000,
};

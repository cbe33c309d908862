// Tests are TypeScript transformed by @swc/jest (type-checking is `tsc --noEmit`, run first by `npm test`).
// middy ships ES modules only, so it is transformed to CommonJS too.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023', keepClassNames: true },
    module: { type: 'commonjs' },
  },
];
const common = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
};
// The stack runs the Lambda handler code: Powertools quiet and offline.
const quiet = ['<rootDir>/test/support/setup-env.ts'];
module.exports = {
  // At least two workers, even on 2 cores (jest's default there is one): the end-to-end and adapter tests spend much of
  // their time waiting on dynalite's child process, so two workers take the suite from ~3 min 50 s to ~2 min 40 s.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  // End-to-end tests drive the local stack on a virtual clock (no real waiting); a few start several stacks.
  testTimeout: 60_000,
  // `npm run test:<project>` runs one (jest --selectProjects); `npm test` runs them all.
  projects: [
    // Pure code: the domain, the handlers with in-memory ports, the CLI.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // The CDK app synthesized, cdk-nag.
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    // The DynamoDB adapters against dynalite (and the in-memory ports against the same assertions).
    { ...common, displayName: 'adapters', testMatch: ['<rootDir>/test/adapters/**/*.test.ts'], setupFiles: quiet },
    // Journeys in simulation: the compiled ASL on a virtual clock with in-memory stores (simulate()).
    { ...common, displayName: 'simulate', testMatch: ['<rootDir>/test/simulate/**/*.test.ts'], setupFiles: quiet },
    // The whole local stack (dynalite, bus, Step Functions runner, HTTP) on a virtual clock.
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], setupFiles: quiet },
  ],
};

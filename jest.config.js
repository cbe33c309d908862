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
module.exports = {
  // Integration tests drive the local stack in virtual time; a few take several seconds.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'], setupFiles: ['<rootDir>/test/integration/setup-env.ts'] },
    { ...common, displayName: 'simulate', testMatch: ['<rootDir>/test/simulate/**/*.test.ts'], setupFiles: ['<rootDir>/test/integration/setup-env.ts'] },
  ],
};

// `npm run test:browser`: the HTML report opened in headless Chromium (Debian's `chromium`, or CHROMIUM_PATH).
// A separate config, so `npm test` never needs a browser.
const base = require('./jest.config.js');
const unit = base.projects[0];
module.exports = {
  testTimeout: 120_000,
  projects: [{ ...unit, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'], setupFiles: ['<rootDir>/test/support/setup-env.ts'] }],
};

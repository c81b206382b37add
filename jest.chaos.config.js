/**
 * The long fault-injection suites (`npm run test:chaos`, also run by CI): they start their own
 * MariaDB and Redis servers on spare ports so restarting them disturbs nothing else.
 */
const base = require('./jest.config');
module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testRegex: '\\.chaos\\.ts$',
  testTimeout: 300000,
};

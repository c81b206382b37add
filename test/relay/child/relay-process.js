/*
 * Runs the relay from its TypeScript sources in a child process (compiled on the fly with @swc/core,
 * with the project's .swcrc), so a test can SIGKILL a real relay process mid-flight.
 * Environment: the relay's own variables. Prints "READY <url>" once listening.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const swc = require('@swc/core');

const swcrc = JSON.parse(readFileSync(join(__dirname, '../../../.swcrc'), 'utf8'));
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), { ...swcrc, filename, swcrc: false, sourceMaps: false });
  module._compile(code, filename);
};
require('reflect-metadata');

(async () => {
  const { createApp } = require('../../../src/app');
  const { loadConfig } = require('../../../src/config/app-config');
  const config = loadConfig(process.env);
  const app = await createApp(config);
  if (process.env.CHILD_SETTINGS) {
    const { DeliverySettings } = require('../../../src/relay/delivery.settings');
    Object.assign(app.get(DeliverySettings), JSON.parse(process.env.CHILD_SETTINGS));
  }
  await app.listen(config.port, '127.0.0.1');
  process.stdout.write(`READY ${config.publicUrl}\n`);
})().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});

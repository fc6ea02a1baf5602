#!/usr/bin/env node
// The `parley` CLI. Runs the built CLI (npm run build); in a source checkout without a build it
// runs the TypeScript directly through the swc loader the dev dependencies provide.
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const built = path.join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
let cli;
if (fs.existsSync(built)) cli = require(built);
else {
  require('@swc-node/register');
  cli = require(path.join(root, 'apps', 'cli', 'src', 'main.ts'));
}
void cli.run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

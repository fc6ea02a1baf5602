// Writes dist/esm/index.mjs, the ES module face of the CommonJS build: one named export per
// export of the built client (listed by loading it), so `import { ParleyClient } from
// '@parley/client'` and `require('@parley/client')` reach the same classes (one instanceof).
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const entry = './cjs/libs/client/src/index.js';
const names = Object.keys(require(path.join(dist, entry))).filter((name) => name !== 'default');
if (!names.includes('ParleyClient')) throw new Error(`${entry} does not export ParleyClient`);
fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
fs.writeFileSync(
  path.join(dist, 'esm', 'index.mjs'),
  `import client from '.${entry}';\n` +
    `export const { ${names.join(', ')} } = client;\n` +
    'export default client;\n',
);
console.log(`@parley/client: dist/esm/index.mjs re-exports ${names.length} names`);

// Writes dist/index.mjs so `import { build } from 'imgforge'` works from ESM. The ESM entry
// re-exports the CommonJS build rather than compiling the sources twice, so both module systems
// share one instance of every class (instanceof ImgforgeError holds across them).
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const cjs = require(path.join(dist, 'index.js'));
const names = Object.keys(cjs).filter((name) => name !== '__esModule' && name !== 'default');
const body = [
  "import cjs from './index.js';",
  ...names.map((name) => `export const ${name} = cjs.${name};`),
  'export default cjs;',
  '',
].join('\n');
fs.writeFileSync(path.join(dist, 'index.mjs'), body);

// Writes schema.json, the spec's JSON Schema that the package ships (`imgforge/schema.json`), from
// the validator's own definitions as tsc compiled them (dist/spec/json-schema.js): the same object
// `imgforge schema` prints. Runs after tsc (package.json `build:ts`).
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const { specJsonSchema } = require(path.join(root, 'dist', 'spec', 'json-schema.js'));
fs.writeFileSync(path.join(root, 'schema.json'), `${JSON.stringify(specJsonSchema(), null, 2)}\n`);

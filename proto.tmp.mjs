import {createRequire} from 'node:module';
import {writeFileSync, readFileSync} from 'node:fs';
const require = createRequire(import.meta.url);
const {default: Ajv2020} = await import('ajv/dist/2020.js');
const standaloneCode = require('ajv/dist/standalone').default;
const addFormats = require('ajv-formats');
function mk(source) { const a = new Ajv2020({allErrors: true, useDefaults: true, strict: false, verbose: true, code: {optimize: false, source}}); a.addKeyword({keyword: 'x-axx-input', schemaType: 'object'}); a.addKeyword({keyword: 'x-axx-shell', schemaType: 'boolean'}); addFormats(a); return a; }
const {stepKinds} = await import('/work/wt/startup/dist/steps/index.js');
const pipe = JSON.parse(readFileSync('schemas/pipeline.schema.json','utf8'));
const gen = mk(true);
const refs = {}; const schemas = [pipe, ...stepKinds.map(k => k.schema)];
schemas.forEach((s, i) => { gen.addSchema(s, 'v' + i); refs['v' + i] = 'v' + i; });
const code = standaloneCode(gen, refs);
writeFileSync('/work/wt/startup/gen.tmp.cjs', code); console.log('bytes', code.length);
const pre = require('/work/wt/startup/gen.tmp.cjs');
const rt = mk(false);
const samples = [{}, {steps: {a: {uses: 'x', wiht: 1}}}, {name: 3, steps: {a: {uses: 'load/model', with: {path: 1, bogus: 2}}}}];
for (const [i, s] of schemas.entries()) {
  const v1 = pre['v'+i]; const v2 = rt.compile(s);
  for (const sample of [...samples, {model: 'x'}, {multipliers: []}, {path: 'a', name: 'b'}]) {
    const a = structuredClone(sample), b = structuredClone(sample);
    const r1 = v1(a), r2 = v2(b);
    const e1 = JSON.stringify(v1.errors), e2 = JSON.stringify(v2.errors);
    if (r1 !== r2 || e1 !== e2 || JSON.stringify(a) !== JSON.stringify(b)) { console.log('DIFF', i, JSON.stringify(sample), e1?.slice(0,300), '\n   ', e2?.slice(0,300)); }
  }
}
console.log('done');

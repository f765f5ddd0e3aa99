// The build's second half (`npm run build`, `prepare`, test/support/build-dist.ts run it after tsc):
// ajv's standalone code for the pipeline schema and every step kind's `with:` schema, written next to
// dist/engine/spec/validators.js, so the CLI neither loads ajv nor compiles a schema at start-up.
// Plain JavaScript over the compiled dist/, which must exist.
import {renameSync, writeFileSync} from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const {stepKinds} = await import(new URL('steps/index.js', dist).href);
const {GENERATED_VALIDATORS, pipelineSchema, standaloneValidators} = await import(new URL('engine/spec/validators.js', dist).href);
const target = new URL(`engine/spec/${GENERATED_VALIDATORS}`, dist);
const partial = new URL(`${target.href}.${process.pid}.tmp`);
writeFileSync(partial, standaloneValidators([pipelineSchema(), ...stepKinds.map((kind) => kind.schema)]));
renameSync(partial, target);

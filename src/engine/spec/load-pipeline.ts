// Pipeline loading: YAML → schema check → kinds, params, matrix, references, per-step `with`
// validation → expanded instances in topological order. Every problem found is reported at once,
// each located in the user's file with a hint.
import {readFile, stat} from 'node:fs/promises';
import {basename, extname} from 'node:path';
import type {Diagnostic, Failure} from '../events.js';
import {plainAxx, type HintCommand} from '../hint-command.js';
import {findCycles, topologicalOrder} from '../graph.js';
import {instanceName, upstreamInstances, type Pipeline, type StepInstance, type StepSpec} from '../pipeline.js';
import type {Json, OutputDecl, StepKind} from '../step-kind.js';
import {closest, embedFor, inputDeclAt, schemaDiagnostics, schemasAt, type ValidateFunction} from './json-schema.js';
import {jsonTypeName, type ParamOverride} from './param-overrides.js';
import {referenceSites, substitute, type Reference, type ReferenceSite} from './references.js';
import {pipelineSchema, validatorFor} from './validators.js';
import {decodeYamlBytes, parseYamlSource, type JsonPath, type YamlSource} from './yaml-source.js';

/** Guards against a file that would exhaust memory or time; the CLI lets the user raise them. */
export interface PipelineLimits {
  /** Size of the pipeline file. */
  documentBytes: number;
  /** Instances one step's matrix may expand to (the product of its value counts). */
  instancesPerStep: number;
}

export const DEFAULT_LIMITS: PipelineLimits = {documentBytes: 1 << 20, instancesPerStep: 2000};

export interface LoadOptions {
  kinds: readonly StepKind[];
  overrides?: readonly ParamOverride[];
  limits?: Partial<PipelineLimits>;
  /** Writes the axx commands of hints (see HintCommand); default plain `axx`. */
  command?: HintCommand;
}

/** Why a pipeline cannot run: its problems (`schema-invalid`, all of them at once) and its cycles. */
export type LoadFailure = Extract<Failure, {reason: 'schema-invalid' | 'cycle'}>;

export type LoadResult = {ok: true; value: Pipeline} | {ok: false; error: LoadFailure[]};

/** Every diagnostic of a failed load, in file order, for printing. */
export function loadDiagnostics(failures: readonly LoadFailure[]): Diagnostic[] {
  return dedupe(failures.flatMap((f) => (f.reason === 'cycle' ? [f.diagnostic] : f.diagnostics)));
}

function invalid(diagnostics: Diagnostic[]): LoadResult {
  return {ok: false, error: [{reason: 'schema-invalid', diagnostics}]};
}

function validatePipelineShape(value: unknown): ValidateFunction {
  const validate = validatorFor(pipelineSchema());
  validate(value);
  return validate;
}

/**
 * Checks parameters after step-output references were resolved (a value output must fit the
 * parameter that takes it). Returns the first problem as a StepError-ready triple, or undefined.
 */
export function checkResolvedParams(kind: StepKind, params: Json): {message: string; param: string} | undefined {
  const validate = kindValidator(kind);
  if (validate(params)) return undefined;
  const error = validate.errors![0]!;
  const path = error.instancePath.split('/').filter(Boolean).join('.');
  return {message: `with${path ? `.${path}` : ''} ${error.message ?? 'is invalid'} after resolving references (got ${JSON.stringify(error.data)?.slice(0, 80)})`, param: `with${path ? `.${path}` : ''}`};
}

function kindValidator(kind: StepKind): ValidateFunction {
  return validatorFor(kind.schema);
}

export async function loadPipelineFile(file: string, options: LoadOptions): Promise<LoadResult> {
  const {documentBytes} = {...DEFAULT_LIMITS, ...options.limits};
  let bytes: Buffer;
  try {
    const info = await stat(file);
    if (info.size > documentBytes) {
      return invalid([{message: `${file} has ${info.size} bytes, more than the limit of ${documentBytes} for a pipeline file`, hint: `keep data out of the pipeline (pass files as inputs), or raise the limit with AXX_MAX_PIPELINE_BYTES=${info.size}`}]);
    }
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return invalid([{message: code === 'ENOENT' ? `pipeline file not found: ${file}` : `cannot read ${file}: ${(error as Error).message}`, hint: 'give the path of a pipeline YAML file (see README "Pipeline files")'}]);
  }
  const decoded = decodeYamlBytes(file, bytes);
  if (!decoded.ok) return invalid([decoded.error]);
  return loadPipeline(file, decoded.text, options);
}

interface RawStep {
  uses: string;
  with?: Record<string, Json>;
  needs?: string[];
  matrix?: Record<string, Json[] | string>;
  retries?: number;
  timeout?: number;
  resources?: Record<string, number>;
  executor?: 'in-process' | 'child-process';
}

interface RawPipeline {
  name?: string;
  params?: Record<string, Json>;
  steps?: Record<string, RawStep>;
}

/** Per-step facts gathered while checking, before the pipeline is assembled. */
interface Draft {
  id: string;
  raw: RawStep;
  kind: StepKind;
  matrix: {key: string; values: Json[]}[];
  sites: ReferenceSite[];
  instances: StepInstance[];
  spec: StepSpec;
}

export function loadPipeline(file: string, text: string, options: LoadOptions): LoadResult {
  const source = parseYamlSource(file, text);
  if (source.errors.length > 0) return invalid(source.errors);
  if (source.value === null || typeof source.value !== 'object' || Array.isArray(source.value)) {
    return invalid([{message: 'a pipeline file must be a YAML mapping with a "steps:" key', location: source.locate([]), hint: 'see README "Pipeline files" for the format'}]);
  }
  const diagnostics: Diagnostic[] = [];
  const report = (message: string, path: JsonPath, hint?: string, key = false): void => {
    diagnostics.push({message, location: source.locate(path, {key}), ...(hint !== undefined ? {hint} : {})});
  };

  const validate = validatePipelineShape(source.value);
  const shapeErrors = validate.errors ?? [];
  diagnostics.push(...schemaDiagnostics(shapeErrors, source, [], {hint: 'see README "Pipeline files"'}));
  const raw = source.value as RawPipeline;
  const brokenSteps = new Set(shapeErrors.map((e) => /^\/steps\/([^/]+)/.exec(e.instancePath)?.[1]).filter((id) => id !== undefined));
  const rawSteps = raw.steps !== null && typeof raw.steps === 'object' && !Array.isArray(raw.steps) ? raw.steps : {};
  const params = resolveParams(raw, options.overrides ?? [], diagnostics);
  const kindsByName = new Map(options.kinds.map((k) => [k.name, k]));
  const command = options.command ?? plainAxx;
  const stepIds = Object.keys(rawSteps);

  // Pass 1: kinds, matrix values, references whose targets need no outputs, `with` per instance.
  const drafts = new Map<string, Draft>();
  for (const [id, step] of Object.entries(rawSteps)) {
    if (brokenSteps.has(id) && (step === null || typeof step !== 'object' || typeof step.uses !== 'string')) continue;
    const kind = kindsByName.get(step.uses);
    if (kind === undefined) {
      const guess = closest(step.uses, [...kindsByName.keys()]);
      report(`step "${id}": unknown kind "${step.uses}"`, ['steps', id, 'uses'], `${guess !== undefined ? `did you mean "${guess}"? ` : ''}known kinds: ${[...kindsByName.keys()].join(', ')} (${command(['kinds'])})`);
      continue;
    }
    const matrix = resolveMatrix(id, step, params, report, {...DEFAULT_LIMITS, ...options.limits}.instancesPerStep);
    const withValue: Json = step.with ?? {};
    const sites = referenceSites(withValue);
    for (const site of sites) checkStaticReference(id, site, matrix, params, stepIds, report);
    for (const [i, need] of (step.needs ?? []).entries()) {
      if (!stepIds.includes(need)) report(`step "${id}": needs unknown step "${need}"`, ['steps', id, 'needs', i], hintForStep(need, stepIds));
      else if (need === id) report(`step "${id}" needs itself`, ['steps', id, 'needs', i], 'remove it from needs');
    }
    if (brokenSteps.has(id) || matrix === undefined) continue;
    const timeout = step.timeout ?? kind.timeout;
    const spec: StepSpec = {
      id,
      kind,
      matrix,
      needs: step.needs ?? [],
      retries: step.retries ?? 0,
      ...(timeout !== undefined ? {timeout} : {}),
      resources: {...(kind.resources ?? {cpu: 1}), ...(step.resources ?? {})},
      ...(step.executor !== undefined ? {executor: step.executor} : {}),
      outputs: kind.outputs,
      instances: [],
    };
    const instances = expandInstances(spec, withValue, params, sites, source, diagnostics, command);
    if (instances.length > 0) spec.outputs = outputsOf(kind, instances[0]!.with, id, report);
    spec.instances = instances.map((i) => i.ref.instance);
    drafts.set(id, {id, raw: step, kind, matrix, sites, instances, spec});
  }

  // Pass 2: references to other steps' outputs (they need every producer's outputs), then cycles.
  const stepDeps = new Map<string, string[]>();
  for (const draft of drafts.values()) {
    const deps = new Set(draft.spec.needs);
    for (const site of draft.sites) {
      if (!site.expression.ok || site.expression.ref.scope !== 'steps') continue;
      const ref = site.expression.ref;
      const producer = drafts.get(ref.step);
      if (producer === undefined || ref.step === draft.id) continue;
      deps.add(ref.step);
      checkOutputReference(draft, producer, site, ref, report, command);
    }
    stepDeps.set(draft.id, [...deps].filter((d) => d !== draft.id));
  }
  const cycles: LoadFailure[] = findCycles([...drafts.keys()], stepDeps).map((cycle) => ({
    reason: 'cycle',
    diagnostic: {
      message: `steps form a cycle: ${cycle.join(' → ')}`,
      location: source.locate(['steps', cycle[0]!], {key: true}),
      hint: 'a step cannot (indirectly) depend on its own outputs; remove one of these references or needs',
    },
  }));
  if (diagnostics.length > 0 || cycles.length > 0) {
    return {ok: false, error: [...(diagnostics.length > 0 ? [{reason: 'schema-invalid' as const, diagnostics: dedupe(diagnostics)}] : []), ...cycles]};
  }

  const pipeline: Pipeline = {
    file,
    name: raw.name ?? basename(file, extname(file)),
    params,
    steps: new Map([...drafts.values()].map((d) => [d.id, d.spec])),
    instances: new Map(),
    source,
  };
  const all = [...drafts.values()].flatMap((d) => d.instances);
  for (const instance of all) {
    const draft = drafts.get(instance.step.id)!;
    const upstream = new Set<string>();
    for (const producerId of stepDeps.get(instance.step.id) ?? []) {
      const viaReference = draft.sites.some((s) => s.expression.ok && s.expression.ref.scope === 'steps' && s.expression.ref.step === producerId);
      const names = viaReference ? upstreamInstances(pipeline, instance, producerId).names : pipeline.steps.get(producerId)!.instances;
      for (const name of names) upstream.add(name);
    }
    instance.upstream = [...upstream];
  }
  const byName = new Map(all.map((i) => [i.ref.instance, i]));
  const order = topologicalOrder(all.map((i) => i.ref.instance), new Map(all.map((i) => [i.ref.instance, i.upstream])));
  for (const name of order) pipeline.instances.set(name, byName.get(name)!);
  return {ok: true, value: pipeline};
}

type Report = (message: string, path: JsonPath, hint?: string, key?: boolean) => void;

function hintForStep(name: string, stepIds: readonly string[]): string {
  const guess = closest(name, stepIds);
  return `${guess !== undefined ? `did you mean "${guess}"? ` : ''}steps: ${stepIds.join(', ')}`;
}

function resolveParams(raw: RawPipeline, overrides: readonly ParamOverride[], diagnostics: Diagnostic[]): Record<string, Json> {
  const declared = raw.params !== null && typeof raw.params === 'object' && !Array.isArray(raw.params) ? raw.params : {};
  const params: Record<string, Json> = {...declared};
  for (const override of overrides) {
    const where = override.location !== undefined ? {location: override.location} : {};
    if (!(override.name in declared)) {
      const guess = closest(override.name, Object.keys(declared));
      diagnostics.push({
        message: `${override.origin}: the pipeline has no param "${override.name}"`,
        ...where,
        hint: `${guess !== undefined ? `did you mean "${guess}"? ` : ''}declared params: ${Object.keys(declared).join(', ') || '(none; declare them under params:)'}`,
      });
      continue;
    }
    const expected = declared[override.name]!;
    if (expected !== null && jsonTypeName(expected) !== jsonTypeName(override.value)) {
      diagnostics.push({message: `${override.origin}: param "${override.name}" is a ${jsonTypeName(expected)} (default ${JSON.stringify(expected)}), got a ${jsonTypeName(override.value)}`, ...where, hint: 'give a value of the same type as the default'});
      continue;
    }
    params[override.name] = override.value;
  }
  return params;
}

function resolveMatrix(id: string, step: RawStep, params: Record<string, Json>, report: Report, maxInstances: number): {key: string; values: Json[]}[] | undefined {
  const matrix: {key: string; values: Json[]}[] = [];
  let ok = true;
  for (const [key, spec] of Object.entries(step.matrix ?? {})) {
    let values: Json;
    if (typeof spec === 'string') {
      const name = /params\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(spec)?.[1] ?? '';
      if (!(name in params)) {
        report(`step "${id}": matrix.${key} refers to unknown param "${name}"`, ['steps', id, 'matrix', key], `declared params: ${Object.keys(params).join(', ') || '(none)'}`);
        ok = false;
        continue;
      }
      values = params[name]!;
    } else values = spec;
    if (!Array.isArray(values) || values.length === 0) {
      report(`step "${id}": matrix.${key} must be a non-empty list, got ${JSON.stringify(values)}`, ['steps', id, 'matrix', key], 'a matrix key lists the values to fan out over, e.g. layer: [fc1, fc2]');
      ok = false;
      continue;
    }
    const seen = new Set<string>();
    const repeated = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).find((t) => seen.size === seen.add(t).size);
    if (repeated !== undefined) {
      report(`step "${id}": matrix.${key} lists "${repeated}" more than once`, ['steps', id, 'matrix', key], 'each value gives one instance; remove the repeat');
      ok = false;
      continue;
    }
    matrix.push({key, values});
  }
  // Checked before expanding: a 1000×1000 matrix must be refused at once, not after a million validations.
  const instances = matrix.reduce((n, m) => n * m.values.length, 1);
  if (ok && instances > maxInstances) {
    report(
      `step "${id}": the matrix expands to ${instances} instances (${matrix.map((m) => `${m.key}: ${m.values.length}`).join(' × ')}), more than the limit of ${maxInstances}`,
      ['steps', id, 'matrix'],
      `fan out over fewer values, or raise the limit with AXX_MAX_INSTANCES=${instances}`,
      true,
    );
    return undefined;
  }
  return ok ? matrix : undefined;
}

function checkStaticReference(
  id: string,
  site: ReferenceSite,
  matrix: {key: string; values: Json[]}[] | undefined,
  params: Record<string, Json>,
  stepIds: readonly string[],
  report: Report,
): void {
  const path = ['steps', id, 'with', ...site.path];
  const expression = site.expression;
  if (!expression.ok) {
    report(`step "${id}": ${expression.message}`, path, 'references look like ${{ steps.<id>.outputs.<name> }}, ${{ params.<name> }} or ${{ matrix.<key> }}');
    return;
  }
  const ref = expression.ref;
  switch (ref.scope) {
    case 'params':
      if (!(ref.name in params)) {
        const guess = closest(ref.name, Object.keys(params));
        report(`step "${id}": ${ref.text} refers to unknown param "${ref.name}"`, path, `${guess !== undefined ? `did you mean "${guess}"? ` : ''}declared params: ${Object.keys(params).join(', ') || '(none; declare them under params:)'}`);
      }
      return;
    case 'matrix':
      if (matrix !== undefined && !matrix.some((m) => m.key === ref.name)) {
        report(`step "${id}": ${ref.text} refers to matrix key "${ref.name}", which this step does not have`, path, matrix.length > 0 ? `this step's matrix keys: ${matrix.map((m) => m.key).join(', ')}` : 'add a matrix: to this step, or use ${{ params.<name> }}');
      }
      return;
    case 'steps':
      if (!stepIds.includes(ref.step)) report(`step "${id}": ${ref.text} refers to unknown step "${ref.step}"`, path, hintForStep(ref.step, stepIds));
      else if (ref.step === id) report(`steps form a cycle: ${id} → ${id}`, path, 'a step cannot read its own outputs');
      return;
  }
}

function expandInstances(spec: StepSpec, withValue: Json, params: Record<string, Json>, sites: readonly ReferenceSite[], source: YamlSource, diagnostics: Diagnostic[], command: HintCommand): StepInstance[] {
  const combos: Record<string, Json>[] = [{}];
  for (const {key, values} of spec.matrix) {
    const next: Record<string, Json>[] = [];
    for (const combo of combos) for (const value of values) next.push({...combo, [key]: value});
    combos.splice(0, combos.length, ...next);
  }
  const stepSites = sites.filter((s) => s.expression.ok && s.expression.ref.scope === 'steps').map((s) => s.path);
  const skip = (path: JsonPath): boolean => stepSites.some((site) => site.every((segment, i) => path[i] === segment));
  const validate = kindValidator(spec.kind);
  const embed = embedFor(spec.kind.schema);
  const instances: StepInstance[] = [];
  for (const matrix of combos) {
    const resolved = substitute(
      withValue,
      (ref: Reference) => {
        if (ref.scope === 'params') return params[ref.name];
        if (ref.scope === 'matrix') return matrix[ref.name];
        return undefined;
      },
      embed,
    );
    if (!validate(resolved)) {
      const hint = `parameters of "${spec.kind.name}": ${command(['kinds', '--json'])}`;
      diagnostics.push(...schemaDiagnostics(validate.errors ?? [], source, ['steps', spec.id, 'with'], {skip, hint}));
    }
    instances.push({ref: {id: spec.id, instance: instanceName(spec.id, matrix), kind: spec.kind.name}, step: spec, matrix, with: resolved, upstream: []});
  }
  return instances;
}

function outputsOf(kind: StepKind, withValue: Json, id: string, report: Report): Record<string, OutputDecl> {
  if (kind.outputsOf === undefined) return kind.outputs;
  try {
    return kind.outputsOf(withValue);
  } catch (error) {
    report(`step "${id}": cannot determine outputs: ${(error as Error).message}`, ['steps', id, 'with']);
    return {};
  }
}

function describeOutput(decl: {type: string; format?: string}): string {
  return `${decl.type === 'value' ? 'a value' : decl.type === 'path' ? 'a file or dir' : `a ${decl.type}`}${decl.format !== undefined ? ` (format "${decl.format}")` : ''}`;
}

function checkOutputReference(consumer: Draft, producer: Draft, site: ReferenceSite, ref: Extract<Reference, {scope: 'steps'}>, report: Report, command: HintCommand): void {
  const path = ['steps', consumer.id, 'with', ...site.path];
  const output = producer.spec.outputs[ref.output];
  if (output === undefined) {
    const names = Object.keys(producer.spec.outputs);
    const guess = closest(ref.output, names);
    report(`step "${consumer.id}": ${ref.text}: step "${producer.id}" (${producer.kind.name}) has no output "${ref.output}"`, path, `${guess !== undefined ? `did you mean "${guess}"? ` : ''}its outputs: ${names.join(', ') || '(none)'}`);
    return;
  }
  const fixesAll = producer.matrix.length > 0 && producer.matrix.every((m) => consumer.matrix.some((c) => c.key === m.key));
  if (fixesAll) {
    for (const m of producer.matrix) {
      const mine = consumer.matrix.find((c) => c.key === m.key)!;
      const missing = mine.values.find((v) => !m.values.some((p) => JSON.stringify(p) === JSON.stringify(v)));
      if (missing !== undefined) {
        report(`step "${consumer.id}": matrix ${m.key}=${JSON.stringify(missing)} has no matching instance of "${producer.id}"`, path, `"${producer.id}" runs ${m.key} over ${JSON.stringify(m.values)}; a step with the same matrix key reads the instance with the same value`);
      }
    }
  }
  if (!site.whole) return;
  const list = producer.matrix.length > 0 && !fixesAll;
  const decl = inputDeclAt(consumer.kind.schema, site.path, list);
  if (decl === undefined) return;
  const typeOk = decl.type === 'path' ? output.type !== 'value' : decl.type === output.type;
  const formatOk = decl.format === undefined || output.format === undefined || decl.format === output.format;
  if (!typeOk || !formatOk) {
    report(
      `step "${consumer.id}": with.${site.path.join('.')} expects ${describeOutput({type: decl.type, ...(decl.format !== undefined ? {format: decl.format} : {})})} but ${ref.text} is ${describeOutput(output)}`,
      path,
      `reference an output of the expected type and format (${command(['kinds', '--json'])} shows each kind's outputs)`,
    );
  }
  if (list && !schemasAt(consumer.kind.schema, site.path).some((s) => s['type'] === 'array' || (Array.isArray(s['type']) && s['type'].includes('array')))) {
    report(
      `step "${consumer.id}": ${ref.text} gives a list (one per instance of matrix step "${producer.id}"), but with.${site.path.join('.')} takes one`,
      path,
      `give "${consumer.id}" the same matrix key(s) (${producer.matrix.map((m) => m.key).join(', ')}) to read one instance each, or pass the list to a parameter that accepts one`,
    );
  }
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out = diagnostics.filter((d) => {
    const id = `${d.location?.line}:${d.location?.column}:${d.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return out.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0));
}

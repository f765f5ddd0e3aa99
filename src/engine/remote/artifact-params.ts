// Parameters across machines. On the coordinator a resolved parameter holds absolute paths into its
// own store; each becomes a placeholder naming the artifact's digest, and the artifact is copied to the
// shared blob tier. A worker copies each artifact from the tier into its own store (a read-through
// cache) and puts its local path back. Literal paths a pipeline names (an image folder, a model file)
// are not store paths: they travel as written and must be readable at that path on every worker
// (docs/distributed.md: the shared directory).
import {sep} from 'node:path';
import type {Json} from '../step-kind.js';
import type {Cas} from '../store/cas.js';

const PLACEHOLDER = 'axx:artifact';

export interface ArtifactRef {
  type: 'file' | 'dir';
  digest: string;
}

const DIGEST_PATH = /^([0-9a-f]{2})[/\\]([0-9a-f]{62})$/;

function artifactAt(path: string, cas: Cas): ArtifactRef | undefined {
  for (const type of ['file', 'dir'] as const) {
    const root = `${cas.root}${sep}${type === 'file' ? 'blobs' : 'dirs'}${sep}`;
    if (!path.startsWith(root)) continue;
    const match = DIGEST_PATH.exec(path.slice(root.length));
    if (match !== null) return {type, digest: match[1]! + match[2]!};
  }
  return undefined;
}

function mapStrings(value: Json, fn: (text: string) => Json): Json {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

/** Replaces store paths by placeholders; lists the artifacts they name. */
export function encodeArtifactParams(params: Json, cas: Cas): {params: Json; artifacts: ArtifactRef[]} {
  const artifacts: ArtifactRef[] = [];
  const encoded = mapStrings(params, (text) => {
    const artifact = artifactAt(text, cas);
    if (artifact === undefined) return text;
    artifacts.push(artifact);
    return {[PLACEHOLDER]: {type: artifact.type, digest: artifact.digest}};
  });
  return {params: encoded, artifacts};
}

function placeholderOf(value: Json): ArtifactRef | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const inner = value[PLACEHOLDER];
  if (keys.length !== 1 || inner === null || typeof inner !== 'object' || Array.isArray(inner)) return undefined;
  const {type, digest} = inner;
  if ((type !== 'file' && type !== 'dir') || typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) return undefined;
  return {type, digest};
}

/** Fetches every placeholder's artifact from `shared` into `local` and substitutes its local path. */
export async function decodeArtifactParams(params: Json, local: Cas, shared: Cas): Promise<Json> {
  const found: ArtifactRef[] = [];
  const collect = (value: Json): void => {
    const artifact = placeholderOf(value);
    if (artifact !== undefined) found.push(artifact);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(params);
  for (const artifact of found) await local.copyFrom(shared, artifact);
  const substitute = (value: Json): Json => {
    const artifact = placeholderOf(value);
    if (artifact !== undefined) return local.pathOf(artifact);
    if (Array.isArray(value)) return value.map(substitute);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
    return value;
  };
  return substitute(params);
}

import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {Cas, removeTree} from '../store/cas.js';
import {decodeArtifactParams, encodeArtifactParams} from './artifact-params.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-artifact-params-'));
afterAll(() => removeTree(dir));

describe('artifact parameters', () => {
  it('travel by digest: store paths become placeholders, the worker gets its own paths with the same content', async () => {
    const coordinator = new Cas(join(dir, 'coordinator'));
    const shared = new Cas(join(dir, 'shared'));
    const worker = new Cas(join(dir, 'worker'));
    writeFileSync(join(dir, 'model.onnx'), 'weights');
    const file = await coordinator.putFile(join(dir, 'model.onnx'));
    mkdirSync(join(dir, 'images', 'sub'), {recursive: true});
    writeFileSync(join(dir, 'images', 'sub', 'a.png'), 'pixels');
    const tree = await coordinator.putDir(join(dir, 'images'));
    const params = {model: coordinator.pathOf(file), data: [coordinator.pathOf(tree)], literal: '/data/imagenet', n: 3};

    const {params: encoded, artifacts} = encodeArtifactParams(params, coordinator);
    expect(JSON.stringify(encoded)).not.toContain(coordinator.root);
    expect(encoded).toMatchObject({literal: '/data/imagenet', n: 3});
    expect(artifacts.map((a) => a.type)).toEqual(['file', 'dir']);
    for (const artifact of artifacts) await shared.copyFrom(coordinator, artifact);

    const decoded = (await decodeArtifactParams(encoded, worker, shared)) as typeof params;
    expect(decoded.model).toBe(worker.pathOf(file));
    expect(readFileSync(decoded.model, 'utf8')).toBe('weights');
    expect(readFileSync(join(decoded.data[0]!, 'sub', 'a.png'), 'utf8')).toBe('pixels');
    expect(decoded.literal).toBe('/data/imagenet');
  });

  it('a damaged blob in the shared tier is never adopted', async () => {
    const source = new Cas(join(dir, 'damaged-source'));
    const target = new Cas(join(dir, 'damaged-target'));
    writeFileSync(join(dir, 'x'), 'original');
    const artifact = await source.putFile(join(dir, 'x'));
    chmodSync(source.blobPath(artifact.digest), 0o644);
    writeFileSync(source.blobPath(artifact.digest), 'tampered');
    await expect(target.copyFrom(source, artifact)).rejects.toThrow(/damaged/);
    expect(await target.has(artifact)).toBe(false);
  });
});

// The contract every store tier must keep — content-addressed blobs and trees, published results,
// leases, the memo and checkpoint slots — written once and run against each implementation (the SQLite
// store in src/engine/store/store-contract.test.ts; a remote tier registers the same way). It uses only
// the parts the engine uses, never an implementation's internals (tables, paths on disk).
import {createHash} from 'node:crypto';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {KEY_SCHEMA_VERSION, type KeyParts} from '../../src/engine/cache-key.js';
import type {Store} from '../../src/engine/store/store.js';

/** What the engine needs of a store; an implementation offers these parts with the same behaviour. */
export type ContractStore = Pick<Store, 'cas' | 'results' | 'leases' | 'memo' | 'checkpoints'> & {close(): void};

/** Opens (or reopens) the store kept under `dir`; reopening must see everything committed before. */
export type OpenStore = (dir: string) => ContractStore | Promise<ContractStore>;

const sha256 = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const keyParts: KeyParts = {schema: KEY_SCHEMA_VERSION, kind: 'contract', kindVersion: 1, params: {n: 1}, inputs: {}, extras: null, environment: {onnxruntime: 'test'}};

export function registerStoreContractTests(name: string, open: OpenStore): void {
  describe(`store contract: ${name}`, () => {
    const dirs: string[] = [];
    const opened: ContractStore[] = [];
    afterEach(async () => {
      for (const store of opened.splice(0)) store.close();
      for (const dir of dirs.splice(0)) await rm(dir, {recursive: true, force: true});
    });
    async function fresh(): Promise<{store: ContractStore; dir: string}> {
      const dir = await mkdtemp(join(tmpdir(), 'axx-store-contract-'));
      dirs.push(dir);
      return {store: await reopen(dir), dir};
    }
    async function reopen(dir: string): Promise<ContractStore> {
      const store = await open(dir);
      opened.push(store);
      return store;
    }
    async function scratch(store: ContractStore, files: Record<string, string>): Promise<string> {
      const dir = await store.cas.tempDir('contract');
      for (const [path, text] of Object.entries(files)) {
        const full = join(dir, ...path.split('/'));
        mkdirSync(join(full, '..'), {recursive: true});
        writeFileSync(full, text);
      }
      return dir;
    }

    describe('CAS', () => {
      it('addresses bytes by their sha256, stores them once and reads them back', async () => {
        const {store} = await fresh();
        const first = await store.cas.putBytes(Buffer.from('contract bytes'));
        const again = await store.cas.putBytes(Buffer.from('contract bytes'));
        expect(first).toEqual({type: 'file', digest: sha256('contract bytes'), size: 14});
        expect(again).toEqual(first);
        expect(await store.cas.has(first)).toBe(true);
        expect((await store.cas.readBytes(first.digest)).toString()).toBe('contract bytes');
        expect(await store.cas.has({type: 'file', digest: sha256('never stored')})).toBe(false);
      });

      it('adopts a file and serves its content at the artifact path', async () => {
        const {store} = await fresh();
        const dir = await scratch(store, {'model.onnx': 'weights'});
        const stored = await store.cas.putFile(join(dir, 'model.onnx'));
        expect(stored.digest).toBe(sha256('weights'));
        expect(readFileSync(store.cas.pathOf(stored), 'utf8')).toBe('weights');
      });

      it('stores a directory as a manifest of its files: same tree, same digest', async () => {
        const {store} = await fresh();
        const tree = {'a.txt': 'A', 'sub/b.txt': 'B'};
        const one = await store.cas.putDir(await scratch(store, tree));
        const two = await store.cas.putDir(await scratch(store, tree));
        const other = await store.cas.putDir(await scratch(store, {...tree, 'sub/b.txt': 'changed'}));
        expect(one.digest).toBe(two.digest);
        expect(other.digest).not.toBe(one.digest);
        expect((await store.cas.manifestEntries(one.digest)).map((e) => [e.path, e.digest])).toEqual([
          ['a.txt', sha256('A')],
          ['sub/b.txt', sha256('B')],
        ]);
        expect(readFileSync(join(store.cas.pathOf(one), 'sub', 'b.txt'), 'utf8')).toBe('B');
        expect(await store.cas.has(one)).toBe(true);
      });
    });

    describe('results', () => {
      it('publishes a result under its key, finds the latest per instance, and forgets a deleted one', async () => {
        const {store} = await fresh();
        const blob = await store.cas.putBytes(Buffer.from('output'));
        const base = {stepId: 'step', instance: 'step[x=1]', kind: 'contract', keyParts, runId: 'run-1', durationMs: 5};
        expect(store.results.get('key-1')).toBeUndefined();
        store.results.publish({...base, key: 'key-1', outputs: {out: blob, n: {type: 'value', digest: sha256('3'), value: 3}}}, 1000);
        store.results.publish({...base, key: 'key-2', outputs: {out: blob}, runId: 'run-2'}, 2000);
        expect(store.results.get('key-1')).toMatchObject({key: 'key-1', instance: 'step[x=1]', keyParts, outputs: {out: blob, n: {type: 'value', value: 3}}, createdAt: 1000});
        expect(store.results.latest('step[x=1]')?.key).toBe('key-2');
        expect(await store.results.usable(store.results.get('key-1')!)).toBe(true);
        store.results.delete('key-2');
        expect(store.results.get('key-2')).toBeUndefined();
        expect(store.results.latest('step[x=1]')?.key).toBe('key-1');
      });

      it('counts a result whose artifact is gone as unusable', async () => {
        const {store} = await fresh();
        const blob = await store.cas.putBytes(Buffer.from('soon gone'));
        store.results.publish({key: 'k', stepId: 's', instance: 's', kind: 'contract', keyParts, runId: 'r', durationMs: 1, outputs: {out: blob}}, 1);
        await store.cas.removeBlob(blob.digest);
        expect(await store.results.usable(store.results.get('k')!)).toBe(false);
      });

      it('keeps committed results across a reopen', async () => {
        const {store, dir} = await fresh();
        const blob = await store.cas.putBytes(Buffer.from('durable'));
        store.results.publish({key: 'k', stepId: 's', instance: 's', kind: 'contract', keyParts, runId: 'r', durationMs: 1, outputs: {out: blob}}, 1);
        store.close();
        const again = await reopen(dir);
        expect(again.results.get('k')?.outputs).toEqual({out: blob});
        expect((await again.cas.readBytes(blob.digest)).toString()).toBe('durable');
      });
    });

    describe('leases', () => {
      it('lets one holder compute a key; another run waits until it is released', async () => {
        const {store} = await fresh();
        expect(store.leases.acquire('key', 'run-a', 'step')).toEqual({acquired: true});
        expect(store.leases.acquire('key', 'run-a', 'step')).toEqual({acquired: true});
        const blocked = store.leases.acquire('key', 'run-b', 'step');
        expect(blocked).toMatchObject({acquired: false, holder: {runId: 'run-a', instance: 'step', pid: process.pid}});
        expect(store.leases.acquire('key', 'run-a', 'other-instance').acquired).toBe(false);
        expect(store.leases.acquire('another-key', 'run-b', 'step')).toEqual({acquired: true});
        store.leases.release('key', 'run-a');
        expect(store.leases.acquire('key', 'run-b', 'step')).toEqual({acquired: true});
        store.leases.releaseAll('run-b');
        expect(store.leases.acquire('another-key', 'run-c', 'step')).toEqual({acquired: true});
      });
    });

    describe('memo', () => {
      it('returns what was set under a key, the last value set, and nothing for an unknown key', async () => {
        const {store} = await fresh();
        const memo = store.memo.forKind('contract');
        expect(await memo.get('contract:a')).toBeUndefined();
        await memo.set('contract:a', {accuracy: 0.5, layers: ['fc1', 'fc2'], nested: {ok: true, none: null}});
        expect(await memo.get('contract:a')).toEqual({accuracy: 0.5, layers: ['fc1', 'fc2'], nested: {ok: true, none: null}});
        await memo.set('contract:a', 2);
        expect(await memo.get('contract:a')).toBe(2);
      });

      it('shares entries across kinds, counts them by prefix and keeps them across a reopen', async () => {
        const {store, dir} = await fresh();
        await store.memo.forKind('search').set('approx/search:1', 1);
        await store.memo.forKind('sensitivity').set('approx/search:2', 2);
        await store.memo.forKind('synthesize').set('hw/yosys:1', 3);
        expect(await store.memo.forKind('sensitivity').get('approx/search:1')).toBe(1);
        expect(store.memo.count('approx/search:')).toBe(2);
        expect(store.memo.count()).toBe(3);
        store.close();
        expect(await (await reopen(dir)).memo.forKind('any').get('hw/yosys:1')).toBe(3);
      });
    });

    describe('checkpoints', () => {
      it('saves a state with files per key, loads the last one, and forgets it when deleted', async () => {
        const {store} = await fresh();
        const slot = store.checkpoints.slot('step-key');
        expect(await slot.load()).toBeUndefined();
        await slot.save({iteration: 1}, {'tree.bin': new Uint8Array([1, 2, 3])});
        await slot.save({iteration: 2}, {'tree.bin': new Uint8Array([4, 5])});
        const loaded = await slot.load();
        expect(loaded?.state).toEqual({iteration: 2});
        expect([...(loaded?.files['tree.bin'] ?? [])]).toEqual([4, 5]);
        expect(store.checkpoints.referencedDigests()).toEqual(new Set([sha256(new Uint8Array([4, 5]))]));
        expect(await store.checkpoints.slot('other-key').load()).toBeUndefined();
        store.checkpoints.delete('step-key');
        expect(await slot.load()).toBeUndefined();
      });
    });
  });
}

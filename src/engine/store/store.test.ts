import {spawn} from 'node:child_process';
import {existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {basename, dirname, join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {KEY_SCHEMA_VERSION} from '../cache-key.js';
import {openDatabase, SCHEMA_VERSION} from './database.js';
import {collectGarbage, verifyStore} from './maintenance.js';
import {Store} from './store.js';

function tempStore(): Store {
  return Store.open(mkdtempSync(join(tmpdir(), 'axx-store-')));
}

async function scratchFile(store: Store, text: string): Promise<string> {
  const dir = await store.cas.tempDir('t');
  writeFileSync(join(dir, 'f'), text);
  return join(dir, 'f');
}

const keyParts = {schema: KEY_SCHEMA_VERSION, kind: 'k', kindVersion: 1, params: {}, inputs: {}, extras: null, environment: {onnxruntime: 'x'}};

describe('Store', () => {
  it('migrates a fresh database to the current version, idempotently', () => {
    using store = tempStore();
    expect(store.db.pragma('user_version', {simple: true})).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('journal_mode', {simple: true})).toBe('wal');
    const again = openDatabase(join(store.dir, 'index.sqlite'));
    expect(again.pragma('user_version', {simple: true})).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('stores files by content, read-only, deduplicated', async () => {
    using store = tempStore();
    const a = await store.cas.putFile(await scratchFile(store, 'hello'));
    const b = await store.cas.putFile(await scratchFile(store, 'hello'));
    expect(a).toEqual(b);
    expect(a.digest).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(store.cas.blobPath(a.digest)).toMatch(/blobs\/2c\/f24dba/);
    expect(statSync(store.cas.blobPath(a.digest)).mode & 0o777).toBe(0o444);
  });

  it('stores a private copy of an output that is a symlink or a hard link to a file outside the scratch dir', async () => {
    using store = tempStore();
    const outside = join(mkdtempSync(join(tmpdir(), 'axx-outside-')), 'user.txt');
    writeFileSync(outside, 'user data');
    const dir = await store.cas.tempDir('links');
    symlinkSync(outside, join(dir, 'sym'));
    linkSync(outside, join(dir, 'hard'));
    const viaSymlink = await store.cas.putFile(join(dir, 'sym'));
    expect(statSync(outside).mode & 0o200).not.toBe(0);
    expect(statSync(store.cas.blobPath(viaSymlink.digest)).isFile()).toBe(true);
    await store.cas.removeBlob(viaSymlink.digest);
    const viaHardLink = await store.cas.putFile(join(dir, 'hard'));
    expect(statSync(store.cas.blobPath(viaHardLink.digest)).ino).not.toBe(statSync(outside).ino);
    expect(statSync(outside).mode & 0o200).not.toBe(0);
  });

  it('stores directories as a manifest plus a read-only tree with the same identity for the same content', async () => {
    using store = tempStore();
    const make = async (): Promise<string> => {
      const dir = join(await store.cas.tempDir('d'), 'out');
      mkdirSync(join(dir, 'sub'), {recursive: true});
      writeFileSync(join(dir, 'a.txt'), 'A');
      writeFileSync(join(dir, 'sub', 'b.txt'), 'B');
      writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n', {mode: 0o755});
      return dir;
    };
    const first = await store.cas.putDir(await make());
    const second = await store.cas.putDir(await make());
    expect(second.digest).toBe(first.digest);
    expect(first.size).toBe(2 + 18);
    const tree = store.cas.dirPath(first.digest);
    expect(readFileSync(join(tree, 'sub', 'b.txt'), 'utf8')).toBe('B');
    expect(statSync(tree).mode & 0o222).toBe(0);
    expect((await store.cas.manifestEntries(first.digest)).map((e) => [e.path, e.executable])).toEqual([
      ['a.txt', false],
      ['run.sh', true],
      ['sub/b.txt', false],
    ]);
    expect(statSync(join(tree, 'run.sh')).mode & 0o777).toBe(0o555);
    expect(statSync(join(tree, 'a.txt')).mode & 0o777).toBe(0o444);
  });

  it('publishes a result with its artifacts in one transaction and finds it by key and by instance', async () => {
    using store = tempStore();
    const file = await store.cas.putFile(await scratchFile(store, 'x'));
    store.results.publish({key: 'k1', stepId: 's', instance: 's', kind: 'k', keyParts, outputs: {o: file, v: {type: 'value', digest: 'd', value: 3}}, runId: 'r', durationMs: 5}, 1);
    expect(store.results.get('k1')!.outputs['v']).toEqual({type: 'value', digest: 'd', value: 3});
    expect(store.results.latest('s')!.key).toBe('k1');
    expect(await store.results.usable(store.results.get('k1')!)).toBe(true);
    expect(store.results.keysUsing(file.digest)).toEqual(['k1']);
  });

  it('verify quarantines a corrupt blob and drops results that used it', async () => {
    using store = tempStore();
    const file = await store.cas.putFile(await scratchFile(store, 'good'));
    store.results.publish({key: 'k1', stepId: 's', instance: 's', kind: 'k', keyParts, outputs: {o: file}, runId: 'r', durationMs: 5}, 1);
    const path = store.cas.blobPath(file.digest);
    // As root the 0444 mode does not stop writes: corrupt it the way a disk would.
    writeFileSync(path, 'bad!');
    const report = await verifyStore(store);
    expect(report.corrupt.map((c) => c.digest)).toEqual([file.digest]);
    expect(report.droppedResults).toEqual(['k1']);
    expect(store.results.get('k1')).toBeUndefined();
    expect(await store.cas.has(file)).toBe(false);
  });

  it('gc removes blobs no result or checkpoint needs; --dry-run removes nothing', async () => {
    using store = tempStore();
    const kept = await store.cas.putFile(await scratchFile(store, 'kept'));
    const orphan = await store.cas.putFile(await scratchFile(store, 'orphan'));
    await store.checkpoints.slot('ck').save({epoch: 1}, {weights: new Uint8Array([1, 2, 3])});
    store.results.publish({key: 'k1', stepId: 's', instance: 's', kind: 'k', keyParts, outputs: {o: kept}, runId: 'r', durationMs: 5}, 1);
    // gc spares what arrived after it started; a second later the orphan is old enough.
    const later = Date.now() + 1000;
    const dry = await collectGarbage(store, {dryRun: true, now: later});
    expect(dry.removedBlobs).toBe(1);
    expect(await store.cas.has(orphan)).toBe(true);
    await collectGarbage(store, {dryRun: false, now: later});
    expect(await store.cas.has(orphan)).toBe(false);
    expect(await store.cas.has(kept)).toBe(true);
    expect((await store.checkpoints.slot('ck').load())!.files['weights']).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('gc --keep-last forgets runs no kept result came from, their logs/<run>/, and memo entries no kept run used', async () => {
    using store = tempStore();
    const runs: [string, number, string][] = [['old', 1000, 'k-old'], ['mid', 2000, 'k-mid'], ['new', 3000, 'k-mid']];
    for (const [id, at, key] of runs) {
      store.runs.start({id, pipeline: 'p', name: 'p', command: 'axx run p', params: {}, at});
      store.runs.setStep(id, {instance: 's', stepId: 's', kind: 'k'}, {state: 'ran', key});
      store.runs.end(id, 'passed', at + 10);
      mkdirSync(join(store.dir, 'logs', id), {recursive: true});
    }
    mkdirSync(join(store.dir, 'logs', 'ghost'), {recursive: true});
    for (const [key, runId] of [['k-old', 'old'], ['k-mid', 'mid']]) {
      store.results.publish({key: key!, stepId: 's', instance: 's', kind: 'k', keyParts, outputs: {v: {type: 'value', digest: 'd', value: 1}}, runId: runId!, durationMs: 5}, 1);
    }
    const memo = store.memo.forKind('k', 0);
    for (const key of ['stale', 'read', 'fresh']) await memo.set(key, {accuracy: 0.5});
    store.db.prepare("UPDATE memo SET used_at = CASE key WHEN 'fresh' THEN 3500 ELSE 1500 END").run();
    // The newest run reads one old entry: that marks it used by a kept run.
    expect(await store.memo.forKind('k', 3000).get('read')).toEqual({accuracy: 0.5});
    const options = {keepLast: 1, now: Date.now() + 1000};
    const dry = await collectGarbage(store, {...options, dryRun: true});
    expect(dry).toMatchObject({droppedResults: 1, forgottenRuns: 1, removedLogDirs: 2, removedMemo: 1});
    expect(store.runs.ids()).toHaveLength(3);
    await collectGarbage(store, {...options, dryRun: false});
    // `mid` stays: the kept run reused its result, whose logs and metrics `axx show` reads there.
    expect(store.runs.ids()).toEqual(['new', 'mid']);
    expect(readdirSync(join(store.dir, 'logs')).sort()).toEqual(['mid', 'new']);
    expect(store.memo.entries().map((e) => e.key)).toEqual(['fresh', 'read']);
    expect(store.results.get('k-old')).toBeUndefined();
    // Without --keep-last every run and memo entry stays.
    await collectGarbage(store, {dryRun: false, now: Date.now() + 1000});
    expect(store.runs.ids()).toHaveLength(2);
    expect(store.memo.count()).toBe(2);
  });

  it('gc --keep-last never forgets a run that starts while it decides what to keep', async () => {
    using store = tempStore();
    for (const [id, at] of [['old', 1000], ['new', 2000]] as const) {
      store.runs.start({id, pipeline: 'p', name: 'p', command: 'axx run p', params: {}, at});
      store.runs.end(id, 'passed', at + 10);
    }
    // Another process starts a run between gc's look at the running runs and its choice of runs to forget.
    const keysOfRecentRuns = store.runs.keysOfRecentRuns.bind(store.runs);
    store.runs.keysOfRecentRuns = (count) => {
      store.runs.start({id: 'starting', pipeline: 'p', name: 'p', command: 'axx run p', params: {}, at: 1500});
      return keysOfRecentRuns(count);
    };
    await collectGarbage(store, {dryRun: false, keepLast: 1, now: Date.now()});
    expect(store.runs.ids().sort()).toEqual(['new', 'starting']);
    store.runs.setStep('starting', {instance: 's', stepId: 's', kind: 'k'}, {state: 'running'});
  });

  it('verify drops memo entries whose stored value is unreadable', async () => {
    using store = tempStore();
    const memo = store.memo.forKind('k');
    await memo.set('good', {accuracy: 0.5});
    await memo.set('torn', {accuracy: 0.5});
    store.db.prepare("UPDATE memo SET value = '{\"accura' WHERE key = 'torn'").run();
    const report = await verifyStore(store);
    expect(report).toMatchObject({memoChecked: 2, droppedMemo: ['torn']});
    expect(await memo.get('torn')).toBeUndefined();
    expect(await memo.get('good')).toEqual({accuracy: 0.5});
  });

  it('remembers digests of outside files across store instances, keyed by (dev, inode, size, mtime)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axx-digests-'));
    const file = join(dir, 'input.bin');
    writeFileSync(file, 'aaaa');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const first = Store.open(join(dir, 'cache'));
    const digest = (await first.fileDigests.digest(file)).digest;
    first.close();
    // Same size, same mtime, different bytes: only a remembered digest can still say "aaaa".
    writeFileSync(file, 'bbbb');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    using second = Store.open(join(dir, 'cache'));
    expect((await second.fileDigests.digest(file)).digest).toBe(digest);
    writeFileSync(file, 'bbbbb');
    expect((await second.fileDigests.digest(file)).digest).not.toBe(digest);
  });

  it('leases: a live holder blocks; a dead pid, or an old heartbeat from another host, does not', () => {
    using store = tempStore();
    expect(store.leases.acquire('key', 'run1', 's').acquired).toBe(true);
    const blocked = store.leases.acquire('key', 'run2', 's');
    expect(blocked.acquired).toBe(false);
    // A pid that cannot exist on Linux (above pid_max) is a crashed holder.
    store.db.prepare('UPDATE leases SET pid = 4194999 WHERE key = ?').run('key');
    expect(store.leases.acquire('key', 'run2', 's').acquired).toBe(true);
    store.db.prepare("UPDATE leases SET pid = ?, host = 'elsewhere' WHERE key = ?").run(process.pid, 'key');
    expect(store.leases.acquire('key', 'run3', 's').acquired).toBe(false);
    store.db.prepare('UPDATE leases SET heartbeat_at = 0 WHERE key = ?').run('key');
    expect(store.leases.acquire('key', 'run3', 's').acquired).toBe(true);
  });

  it('runs left running by a dead process are recovered as interrupted', () => {
    using store = tempStore();
    store.runs.start({id: 'r1', pipeline: 'p', name: 'p', command: 'axx run p', params: {lr: 0.1}, at: Date.now()});
    expect(store.runs.get('r1')!.params).toEqual({lr: 0.1});
    store.runs.setStep('r1', {instance: 's', stepId: 's', kind: 'k'}, {state: 'running'});
    expect(store.runs.recoverStale(Date.now())).toEqual([]);
    store.db.prepare('UPDATE runs SET pid = 4194999').run();
    expect(store.runs.recoverStale(Date.now())).toEqual(['r1']);
    expect(store.runs.get('r1')!.status).toBe('interrupted');
    expect(store.runs.steps('r1')[0]!.state).toBe('interrupted');
  });
});

describe('temp dirs', () => {
  it('removes the scratch dirs of a dead process (counting them in a dry run), never a live one, and leaves no empty dir per blob', async () => {
    using store = tempStore();
    const mine = await store.cas.tempDir('running-step');
    await store.cas.putBytes(new Uint8Array([1, 2, 3]));
    // A pid above the kernel's limit (4194304) is never alive.
    const dead = join(store.dir, 'cas', 'tmp', `pid4999999@${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}`, 'killed-step-abc');
    mkdirSync(dead, {recursive: true});
    expect(await store.cas.clearDeadTemp({dryRun: true, now: Date.now()})).toBe(1);
    expect(statSync(dead).isDirectory()).toBe(true);
    expect(await store.cas.clearDeadTemp({dryRun: false, now: Date.now()})).toBe(1);
    expect(() => statSync(dead)).toThrow();
    expect(readdirSync(dirname(mine))).toEqual([basename(mine)]);
  });

  it('leaves a dead process\'s scratch dir that an orphaned command still writes into, without failing, and removes it later', async () => {
    using store = tempStore();
    const dead = join(store.dir, 'cas', 'tmp', `pid4999998@${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}`, 'killed-step-def');
    // A command of a killed run (kill -9 does not reach its children) keeps writing files into its scratch dir.
    const writer = spawn('sh', ['-c', `while :; do mkdir -p '${dead}' 2>/dev/null; for i in 1 2 3 4 5 6 7 8; do echo x > '${dead}'/f$i 2>/dev/null; done; done`], {stdio: 'ignore'});
    try {
      while (!existsSync(join(dead, 'f8'))) await new Promise((resolve) => setTimeout(resolve, 10));
      // rm -r racing the writer fails with ENOTEMPTY in most attempts (17 of 20 in a probe).
      for (let attempt = 0; attempt < 10; attempt++) await store.cas.clearDeadTemp({dryRun: false, now: Date.now()});
    } finally {
      writer.kill('SIGKILL');
      await new Promise((resolve) => writer.once('exit', resolve));
    }
    await store.cas.clearDeadTemp({dryRun: false, now: Date.now()});
    expect(existsSync(dirname(dead))).toBe(false);
  });
});

// rediss:// end to end: a TLS-only redis-server with a certificate from a private CA (made here with
// openssl), an `axx worker` and an `axx run` that trust it through Node's NODE_EXTRA_CA_CERTS, and a
// worker that does not trust it and says why.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {removeTree} from '../../src/engine/store/cas.js';
import {ensureDist} from '../support/build-dist.js';
import {exited} from './engine-helpers.js';
import {freePort, hasRedisServer, waitForOutput} from './distributed-helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'axx-distributed-tls-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  // Newest first: workers leave while redis-server is still there to hand their state back to.
  for (const child of children.reverse()) {
    child.kill('SIGTERM');
    await exited(child);
  }
  await removeTree(dir);
});

const bin = join(import.meta.dirname, '..', '..', 'bin', 'axx.js');

function openssl(...args: string[]): void {
  const result = spawnSync('openssl', args, {cwd: dir, encoding: 'utf8'});
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A CA and a server certificate for 127.0.0.1 signed by it. */
function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=axx-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf');
}

function axx(args: string[], env: Record<string, string>): ChildProcess & {output: () => string} {
  ensureDist();
  const child = spawn(process.execPath, [bin, ...args], {cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, AXX_CACHE: '', ...env}});
  children.push(child);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return Object.assign(child, {output: () => text});
}

describe.skipIf(!hasRedisServer || !hasOpenssl)('rediss:// (TLS)', () => {
  it('a worker and a run that trust the CA work through TLS; one that does not is refused with the reason', async () => {
    makeCertificates();
    const port = await freePort();
    // TLS only: the plain port is off, so nothing below can succeed without TLS.
    const server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--tls-cert-file', 'server.pem', '--tls-key-file', 'server.key', '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no'], {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']});
    children.push(server);
    await waitForOutput(server, /Ready to accept connections/);
    const url = `rediss://127.0.0.1:${port}`;
    const trusting = {NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem')};

    const untrusting = axx(['worker', '--redis', url, '--blobs', join(dir, 'blobs'), '--cache', join(dir, 'untrusting')], {});
    expect(await exited(untrusting), untrusting.output()).toBe(2);
    expect(untrusting.output()).toMatch(/Redis at 127\.0\.0\.1:\d+ cannot be reached: .*certificate/);

    const worker = axx(['worker', '--redis', url, '--blobs', join(dir, 'blobs'), '--cache', join(dir, 'worker'), '--allow-exec'], trusting);
    await waitForOutput(worker, /takes jobs from/);
    writeFileSync(join(dir, 'package.json'), '{"name": "tls", "private": true}\n');
    writeFileSync(join(dir, 'p.yaml'), "steps:\n  a:\n    uses: exec\n    with:\n      run: 'echo $((6 * 7)) > o'\n      outputs: {o: {path: o}}\n");
    const run = axx(['run', 'p.yaml', '--redis', url, '--blobs', join(dir, 'blobs'), '--cache', join(dir, 'coordinator')], trusting);
    expect(await exited(run), run.output()).toBe(0);
    expect(run.output()).toMatch(/passed/);
    expect(worker.output()).toMatch(/finished exec job/);
    expect(worker.output() + run.output()).not.toMatch(/DeprecationWarning/);
  }, 120_000);
});

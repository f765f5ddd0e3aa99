// Start-up of the shipped CLI (bin/axx.js → dist/), as a ratio against `node -e 0` measured in the same
// run, variants interleaved (ABCD ABCD …) so machine load hits them alike. Goal: `axx --help` and
// `axx plan` of the quickstart in < 0.4 s. For comparison, the same commands run from the TypeScript
// source through tsx (how bin/axx.js ran before dist/), and with `--against <dir>` those of another
// built checkout (e.g. `git worktree add /tmp/before <commit> && cd /tmp/before && npm ci`), interleaved too.
// Run: npx tsx bench/startup.bench.ts [rounds] [--against <dir>]
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import {cpus, loadavg, tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {ensureDist} from '../test/support/build-dist.js';

const root = join(import.meta.dirname, '..');
const againstAt = process.argv.indexOf('--against');
const against = againstAt > 0 ? process.argv[againstAt + 1] : undefined;
if (againstAt > 0 && against === undefined) throw new Error('--against needs the directory of another built checkout');
const rounds = Number(process.argv.slice(2).find((a, i, all) => /^\d+$/.test(a) && all[i - 1] !== '--against') ?? 7);
const GOAL_SECONDS = 0.4;
/** `node -e 0` on an idle machine (Node 20, a recent x86 core), to turn a loaded machine's ratios into seconds. */
const IDLE_NODE_SECONDS = 0.04;
ensureDist();
const cache = mkdtempSync(join(tmpdir(), 'axx-bench-startup-'));
const bin = join(root, 'bin', 'axx.js');
const tsxLoader = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
const source = ['--import', tsxLoader, join(root, 'src', 'cli', 'main.ts')];
const plan = ['plan', join(root, 'pipelines', 'quickstart.yaml'), '--cache', cache];

const variants: {name: string; args: string[]}[] = [
  {name: 'node -e 0', args: ['-e', '0']},
  {name: 'axx --help', args: [bin, '--help']},
  {name: 'axx plan quickstart', args: [bin, ...plan]},
  {name: 'tsx src: axx --help', args: [...source, '--help']},
  {name: 'tsx src: axx plan quickstart', args: [...source, ...plan]},
  ...(against === undefined
    ? []
    : [
        {name: 'against: axx --help', args: [join(against, 'bin', 'axx.js'), '--help']},
        {name: 'against: axx plan quickstart', args: [join(against, 'bin', 'axx.js'), ...plan]},
      ]),
];

function seconds(args: string[]): number {
  const t0 = performance.now();
  const result = spawnSync(process.execPath, args, {cwd: root, encoding: 'utf8', env: {...process.env, CI: 'true'}});
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return (performance.now() - t0) / 1000;
}

const times = new Map(variants.map((v) => [v.name, [] as number[]]));
seconds(variants[2]!.args); // the first plan creates the cache database; time the ones after it
for (let round = 0; round < rounds; round++) for (const v of variants) times.get(v.name)!.push(seconds(v.args));
rmSync(cache, {recursive: true, force: true});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const baseline = median(times.get('node -e 0')!);
console.log(`${rounds} rounds on ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; medians:`);
for (const v of variants) {
  const m = median(times.get(v.name)!);
  const goal = v.name.startsWith('axx') ? `  goal < ${GOAL_SECONDS}s: ${m < GOAL_SECONDS ? 'met' : 'NOT met'}` : '';
  const implied = `≈ ${((m / baseline) * IDLE_NODE_SECONDS).toFixed(2)}s where node -e 0 takes ${IDLE_NODE_SECONDS}s`;
  console.log(`  ${v.name.padEnd(30)} ${m.toFixed(3)}s  ${(m / baseline).toFixed(1)}× node -e 0 (${implied})${goal}`);
}
for (const command of ['--help', 'plan quickstart']) {
  const dist = median(times.get(`axx ${command}`)!);
  const tsx = median(times.get(`tsx src: axx ${command}`)!);
  console.log(`  axx ${command}: dist/ is ${(tsx / dist).toFixed(1)}× faster than tsx from source`);
  if (against !== undefined) console.log(`  axx ${command}: ${(median(times.get(`against: axx ${command}`)!) / dist).toFixed(1)}× faster than ${against}`);
}

import {describe, expect, it} from 'vitest';
import {invokedAs} from './invocation.js';

const base = {cwd: '/home/me/project', packageName: 'axx-approx'};

describe('invokedAs', () => {
  it('prefers what a parent axx passed down', () => {
    expect(invokedAs({...base, env: {AXX_ARGV0: 'npx axx', npm_command: 'exec'}, script: '/x/bin/axx.js'})).toBe('npx axx');
  });

  it('is axx for a bin link on PATH, npx axx for one that is not', () => {
    expect(invokedAs({...base, env: {PATH: '/usr/bin:/usr/local/bin'}, script: '/usr/local/bin/axx'})).toBe('axx');
    expect(invokedAs({...base, env: {PATH: '/usr/bin'}, script: '/home/me/project/node_modules/.bin/axx'})).toBe('npx axx');
  });

  it('names the package for npx from its cache outside the clone, the command inside it or a project that has it', () => {
    const npxCache = '/root/.npm/_npx/25384ee8d5c645af/node_modules/.bin/axx';
    expect(invokedAs({...base, env: {npm_command: 'exec', npm_package_name: 'my-study'}, script: npxCache})).toBe('npx axx-approx');
    expect(invokedAs({...base, env: {npm_command: 'exec', npm_package_name: 'axx-approx'}, script: npxCache})).toBe('npx axx');
    expect(invokedAs({...base, env: {npm_command: 'exec'}, script: '/home/me/project/node_modules/.bin/axx'})).toBe('npx axx');
  });

  it('repeats npm run and node with the script path', () => {
    expect(invokedAs({...base, env: {npm_command: 'run-script', npm_lifecycle_event: 'axx', npm_lifecycle_script: 'tsx src/cli/main.ts'}, script: '/home/me/project/src/cli/main.ts'})).toBe('npm run axx --');
    expect(invokedAs({...base, env: {}, script: '/home/me/project/bin/axx.js'})).toBe('node bin/axx.js');
    expect(invokedAs({...base, env: {}, script: '/opt/axx/bin/axx.js'})).toBe('node /opt/axx/bin/axx.js');
  });

  it('ignores npm variables inherited from an npm that started something else (npm test, npx vitest)', () => {
    const env = {PATH: '/usr/local/bin', npm_command: 'run-script', npm_lifecycle_event: 'test', npm_lifecycle_script: 'vitest run'};
    expect(invokedAs({...base, env, script: '/usr/local/bin/axx'})).toBe('axx');
    expect(invokedAs({...base, env: {PATH: '/usr/local/bin', npm_command: 'exec'}, script: '/usr/local/bin/axx'})).toBe('axx');
  });
});

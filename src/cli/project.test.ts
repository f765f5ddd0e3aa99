import {describe, expect, it} from 'vitest';
import {captureIo} from '../../test/e2e/engine-helpers.js';
import {runCli} from './main.js';

describe('pipeline arguments', () => {
  it('explains a -p value the shell split at a space (unquoted list or *)', async () => {
    const io = captureIo('/tmp');
    // What bash passes for: axx validate p.yaml -p layers=[blocks.*.attn.qkv, blocks.*.mlp.fc1]
    expect(await runCli(['validate', 'p.yaml', '-p', 'layers=[blocks.*.attn.qkv,', 'blocks.*.mlp.fc1]'], io)).toBe(2);
    expect(io.stderrText()).toContain("unexpected argument blocks.*.mlp.fc1]; if it is part of a -p value, the shell split it at a space or expanded a * or [..]: quote the whole assignment, e.g. -p 'layers=[blocks.*.attn.qkv, blocks.*.mlp.fc1]'");
  });

  it('keeps the plain message without -p', async () => {
    const io = captureIo('/tmp');
    expect(await runCli(['validate', 'p.yaml', 'q.yaml'], io)).toBe(2);
    expect(io.stderrText()).toContain('unexpected argument q.yaml\n');
  });
});

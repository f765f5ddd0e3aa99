import {describe, expect, it} from 'vitest';
import {checkDevice, createSession, deviceName, DeviceUnavailableError, executionSettings, parseDevice} from './session.js';

describe('devices', () => {
  it('parses cpu and cuda:N, and nothing else', () => {
    expect(parseDevice('cpu')).toEqual({kind: 'cpu'});
    expect(parseDevice('cuda')).toEqual({kind: 'cuda', index: 0});
    expect(parseDevice('cuda:3')).toEqual({kind: 'cuda', index: 3});
    for (const bad of ['gpu', 'cuda:', 'cuda:x', 'CPU', 'cuda:1:2']) expect(parseDevice(bad)).toBeUndefined();
    expect(deviceName({kind: 'cuda', index: 2})).toBe('cuda:2');
  });

  it('keys results on the execution provider and its precision, not on which GPU', () => {
    expect(executionSettings({kind: 'cpu'})).toEqual({provider: 'cpu'});
    expect(executionSettings({kind: 'cuda', index: 0})).toEqual(executionSettings({kind: 'cuda', index: 1}));
    expect(executionSettings({kind: 'cuda', index: 0})).toEqual({provider: 'cuda', tf32: false});
  });

  // CI machines carry onnxruntime-node without its CUDA provider: asking for one must say what to install.
  it('refuses cuda where the CUDA provider is not installed, naming what to install', async () => {
    let refused: unknown;
    try {
      checkDevice({kind: 'cuda', index: 0});
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DeviceUnavailableError);
    expect((refused as DeviceUnavailableError).message).toMatch(/device cuda:0: onnxruntime-node's CUDA provider is not installed \(no .*libonnxruntime_providers_cuda\.so\)/);
    expect((refused as DeviceUnavailableError).hint).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/);
    await expect(createSession(new Uint8Array(0), {device: {kind: 'cuda', index: 0}})).rejects.toBeInstanceOf(DeviceUnavailableError);
    expect(() => checkDevice({kind: 'cpu'})).not.toThrow();
  });
});

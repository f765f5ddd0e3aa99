// Which device sessions run on and whether this installation can drive it: what a step's parameters and
// cache key need, without loading onnxruntime's native binding (src/onnx/session.ts does, to run).
import {existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import {arch, platform} from 'node:os';
import {dirname, join} from 'node:path';

/** Where sessions run: the CPU, or the CUDA device with this index. */
export type Device = {kind: 'cpu'} | {kind: 'cuda'; index: number};

export const CPU: Device = {kind: 'cpu'};

/** Parses `cpu` or `cuda:N` (plain `cuda` means `cuda:0`); undefined for anything else. */
export function parseDevice(text: string): Device | undefined {
  if (text === 'cpu') return CPU;
  const match = /^cuda(?::(\d+))?$/.exec(text);
  return match ? {kind: 'cuda', index: Number(match[1] ?? 0)} : undefined;
}

export function deviceName(device: Device): string {
  return device.kind === 'cpu' ? 'cpu' : `cuda:${device.index}`;
}

/**
 * What of a device changes numeric results, for cache keys: the execution provider and its precision
 * settings. The device index does not (any GPU of one machine computes alike), so it stays out.
 */
export function executionSettings(device: Device): {provider: 'cpu'} | {provider: 'cuda'; tf32: false} {
  return device.kind === 'cpu' ? {provider: 'cpu'} : {provider: 'cuda', tf32: false};
}

/** A session was asked for a device this installation cannot drive. */
export class DeviceUnavailableError extends Error {
  override name = 'DeviceUnavailableError';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const CUDA_INSTALL_HINT =
  "install onnxruntime-node's CUDA 12 provider (it is not in the npm package): on a Linux x64 machine with CUDA 12 and cuDNN 9, run " +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` in the directory axx is installed in, or use device: cpu';

/** The directory holding onnxruntime-node's native binding, where its optional provider libraries go. */
function bindingDir(): string {
  const packageJson = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return join(dirname(packageJson), 'bin', 'napi-v6', platform(), arch());
}

/** Throws DeviceUnavailableError unless sessions can run on `device`. */
export function checkDevice(device: Device): void {
  if (device.kind === 'cpu') return;
  if (platform() !== 'linux' || arch() !== 'x64') {
    throw new DeviceUnavailableError(`device ${deviceName(device)}: onnxruntime-node ships its CUDA provider for Linux x64 only (this is ${platform()}/${arch()})`, 'use device: cpu');
  }
  const library = join(bindingDir(), 'libonnxruntime_providers_cuda.so');
  if (!existsSync(library)) throw new DeviceUnavailableError(`device ${deviceName(device)}: onnxruntime-node's CUDA provider is not installed (no ${library})`, CUDA_INSTALL_HINT);
}

// Shards and NPY data are little-endian and are read straight into typed arrays, which use the
// host's byte order; every machine axx targets is little-endian, so a big-endian host is refused.
import {endianness} from 'node:os';
import {DataError} from './data-error.js';

export function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new DataError(`axx datasets are little-endian and this host is ${endianness()}-endian`, undefined, 'run axx on a little-endian machine (x86-64, arm64)');
}

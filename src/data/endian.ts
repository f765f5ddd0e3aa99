// Shards and NPY data are little-endian and are read straight into typed arrays, which use the
// host's byte order; every machine axx targets is little-endian, so a big-endian host is refused.
import {endianness} from 'node:os';

export function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('axx datasets need a little-endian host');
}

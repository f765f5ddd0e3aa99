// NumPy .npz archives: a zip of .npy entries (numpy.savez stores them, savez_compressed deflates
// them). Stored entries are read in place from the file; deflated ones are inflated whole with
// node's zlib, so a compressed array must fit in memory (save large arrays uncompressed).
import {closeSync, fstatSync, openSync, readSync} from 'node:fs';
import {inflateRawSync} from 'node:zlib';
import {DataError} from './data-error.js';
import {fileBytes, memoryBytes, openNpy, type NpyArray} from './npy.js';

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const FULL32 = 0xffffffff;

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const got = readSync(fd, buffer, done, length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return buffer.subarray(0, done);
}

function listEntries(fd: number, file: string): ZipEntry[] {
  const fileSize = fstatSync(fd).size;
  const notZip = (why: string): never => {
    throw new DataError(`not a readable NPZ/zip archive (${why})`, file, 'save arrays with numpy.savez or numpy.savez_compressed');
  };
  // The end-of-central-directory record sits in the last 22 bytes plus an optional comment (< 64 KiB).
  const tailStart = Math.max(0, fileSize - 22 - 0xffff);
  const tail = readAt(fd, tailStart, fileSize - tailStart);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) notZip('no end-of-central-directory record');
  let entryCount = tail.readUInt16LE(eocd + 10);
  let directoryOffset = tail.readUInt32LE(eocd + 16);
  if (directoryOffset === FULL32 || entryCount === 0xffff) {
    const locatorAt = eocd - 20;
    if (locatorAt < 0 || tail.readUInt32LE(locatorAt) !== ZIP64_LOCATOR) notZip('zip64 locator missing');
    const record = readAt(fd, Number(tail.readBigUInt64LE(locatorAt + 8)), 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD) notZip('zip64 end record missing');
    entryCount = Number(record.readBigUInt64LE(32));
    directoryOffset = Number(record.readBigUInt64LE(48));
  }
  const directory = readAt(fd, directoryOffset, tailStart + eocd - directoryOffset);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let n = 0; n < entryCount; n++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_ENTRY) notZip('damaged central directory');
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const entry: ZipEntry = {
      name: directory.toString('utf8', at + 46, at + 46 + nameLength),
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      localHeaderOffset: directory.readUInt32LE(at + 42),
    };
    // Zip64 extra field (id 1): 64-bit values for exactly those fields that read 0xffffffff, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = directory.readUInt16LE(extra);
      const length = directory.readUInt16LE(extra + 2);
      if (id === 1) {
        let field = extra + 4;
        for (const key of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
          if (entry[key] === FULL32) {
            entry[key] = Number(directory.readBigUInt64LE(field));
            field += 8;
          }
        }
      }
      extra += 4 + length;
    }
    entries.push(entry);
    at = extraEnd + commentLength;
  }
  return entries;
}

export interface NpzArchive {
  /** Array names (entry names without ".npy"). */
  names: string[];
  open(name: string): NpyArray;
}

/** Runs `use` with `file` open for reading; opened per use, so an archive holds no descriptor. */
function withFile<T>(file: string, use: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new DataError(`cannot open NPZ file: ${(error as Error).message}`, file);
  }
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

export function openNpz(file: string): NpzArchive {
  const entries = withFile(file, (fd) => listEntries(fd, file));
  const byName = new Map(entries.map((e) => [e.name.replace(/\.npy$/, ''), e]));
  return {
    names: [...byName.keys()],
    open(name) {
      const entry = byName.get(name);
      if (entry === undefined) {
        throw new DataError(`no array named "${name}" in the archive`, file, `it holds: ${[...byName.keys()].join(', ') || 'nothing'}`);
      }
      const label = `${file}:${entry.name}`;
      return withFile(file, (fd) => openEntry(fd, file, entry, label));
    },
  };
}

function openEntry(fd: number, file: string, entry: ZipEntry, label: string): NpyArray {
      const local = readAt(fd, entry.localHeaderOffset, 30);
      if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_HEADER) throw new DataError('damaged local header', label);
      const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      if (entry.method === 0) return openNpy(fileBytes(file, dataStart, entry.size), label);
      if (entry.method !== 8) throw new DataError(`zip compression method ${entry.method} is not supported (only stored and deflate)`, label);
      let inflated: Uint8Array;
      try {
        inflated = inflateRawSync(readAt(fd, dataStart, entry.compressedSize));
      } catch (error) {
        throw new DataError(`deflated data is damaged: ${(error as Error).message}`, label);
      }
      if (inflated.length !== entry.size) throw new DataError(`inflated to ${inflated.length} bytes, the archive says ${entry.size}`, label);
      return openNpy(memoryBytes(inflated), label);
}

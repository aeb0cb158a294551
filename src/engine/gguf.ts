/**
 * GGUF container reader and writer (the llama.cpp model file format, versions 2 and 3).
 *
 * Threat model: model files come from outside (a user's path, a download), so every count and length read from
 * the file is checked against the bytes that remain before anything is allocated or looped over: a malformed or
 * hostile file fails with an EngineError naming the byte offset or tensor, never hangs or allocates gigabytes.
 *
 * Source: the GGUF specification, https://github.com/ggml-org/ggml/blob/master/docs/gguf.md, and the ggml
 * type table (ggml.h: F32 = 0, F16 = 1, Q8_0 = 8, BF16 = 30; Q8_0 blocks of 32 int8 with one f16 scale).
 */
import { EngineError } from '../errors.js';

/** A scalar metadata type, by its GGUF name. */
export type GgufScalarType =
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'float32'
  | 'bool'
  | 'string'
  | 'uint64'
  | 'int64'
  | 'float64';

/** A metadata array; `itemType` is kept so that a file round-trips byte for byte. */
export interface GgufArray {
  readonly type: 'array';
  readonly itemType: GgufScalarType | 'array';
  readonly value: readonly GgufItem[];
}

/** One element of a metadata array (64-bit integers are bigint; nested arrays are allowed by the spec). */
export type GgufItem = number | bigint | boolean | string | GgufArray;

/** A typed metadata value. */
export type GgufValue =
  | { readonly type: 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64'; readonly value: number }
  | { readonly type: 'uint64' | 'int64'; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | GgufArray;

/** ggml tensor element types this module knows by name (it can decode F32, F16, BF16 and Q8_0). */
export const GGML_TYPES = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  BF16: 30,
} as const;

/** The name of a ggml type id, e.g. `Q4_K` for 12 (or `type 99` when unknown). */
export function ggmlTypeName(type: number): string {
  for (const [name, id] of Object.entries(GGML_TYPES)) if (id === type) return name;
  return `type ${type}`;
}

/** Bytes per block and elements per block of the types we can decode. */
const DECODABLE: Readonly<Record<number, { blockBytes: number; blockElems: number }>> = {
  [GGML_TYPES.F32]: { blockBytes: 4, blockElems: 1 },
  [GGML_TYPES.F16]: { blockBytes: 2, blockElems: 1 },
  [GGML_TYPES.BF16]: { blockBytes: 2, blockElems: 1 },
  [GGML_TYPES.Q8_0]: { blockBytes: 34, blockElems: 32 },
};

/** A tensor's directory entry. `shape` is in GGUF order: shape[0] (ne0) is the fastest-varying dimension. */
export interface GgufTensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: number;
  /** Offset of the data relative to the start of the data section. */
  readonly offset: number;
  /** Size of the data in bytes (known only for decodable types; -1 otherwise). */
  readonly byteLength: number;
}

/** A parsed GGUF file. Tensor data stays in `bytes` until `tensorF32` decodes it. */
export interface GgufFile {
  /** Where it came from (a path or a label), for error messages. */
  readonly source: string;
  readonly version: number;
  readonly alignment: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  /** Absolute offset of the data section in `bytes`. */
  readonly dataOffset: number;
  readonly bytes: Uint8Array;
}

const MAGIC = 0x46554747; // "GGUF" little-endian
const SCALAR_IDS: readonly (GgufScalarType | 'array')[] = [
  'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64',
];
const SCALAR_SIZE: Readonly<Record<GgufScalarType | 'array', number>> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, bool: 1,
  // smallest possible encodings (an empty string, an empty array), used to bound counts before looping
  string: 8, array: 12, uint64: 8, int64: 8, float64: 8,
};
/** ggml supports at most 4 dimensions (GGML_MAX_DIMS). */
const MAX_DIMS = 4;

/** A bounds-checked little-endian cursor over the file. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }
  need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new EngineError(
        `${this.source}: truncated GGUF file: ${what} needs ${n} bytes at byte offset ${this.pos}, but the file ends at ${this.bytes.byteLength}`,
      );
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** A u64 count or size that must fit in a safe JS number and in the file (each unit at least `unit` bytes). */
  count(what: string, unit: number): number {
    const at = this.pos;
    const v = this.u64(what);
    if (v * BigInt(Math.max(unit, 0)) > BigInt(this.remaining)) {
      throw new EngineError(
        `${this.source}: truncated or malformed GGUF file: ${what} at byte offset ${at} is ${v}, more than the ${this.remaining} bytes left can hold`,
      );
    }
    return Number(v);
  }
  string(what: string): string {
    const n = this.count(`length of ${what}`, 1);
    const at = this.pos;
    try {
      const s = this.utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
      this.pos += n;
      return s;
    } catch (cause) {
      throw new EngineError(`${this.source}: malformed GGUF file: ${what} at byte offset ${at} is not valid UTF-8`, { cause });
    }
  }
  scalar(type: GgufScalarType, what: string): GgufItem {
    const v = this.view;
    const p = this.pos;
    switch (type) {
      case 'uint8': return this.u8(what);
      case 'int8': this.need(1, what); this.pos += 1; return v.getInt8(p);
      case 'uint16': this.need(2, what); this.pos += 2; return v.getUint16(p, true);
      case 'int16': this.need(2, what); this.pos += 2; return v.getInt16(p, true);
      case 'uint32': return this.u32(what);
      case 'int32': this.need(4, what); this.pos += 4; return v.getInt32(p, true);
      case 'float32': this.need(4, what); this.pos += 4; return v.getFloat32(p, true);
      case 'bool': {
        const b = this.u8(what);
        if (b > 1) throw new EngineError(`${this.source}: malformed GGUF file: ${what} at byte offset ${p} is a bool of value ${b}`);
        return b === 1;
      }
      case 'string': return this.string(what);
      case 'uint64': return this.u64(what);
      case 'int64': this.need(8, what); this.pos += 8; return v.getBigInt64(p, true);
      case 'float64': this.need(8, what); this.pos += 8; return v.getFloat64(p, true);
    }
  }
  valueType(what: string): GgufScalarType | 'array' {
    const at = this.pos;
    const id = this.u32(what);
    const t = SCALAR_IDS[id];
    if (t === undefined) throw new EngineError(`${this.source}: malformed GGUF file: unknown metadata value type ${id} for ${what} at byte offset ${at}`);
    return t;
  }
  array(what: string, depth: number): GgufArray {
    if (depth > 8) throw new EngineError(`${this.source}: malformed GGUF file: ${what} nests arrays more than 8 deep`);
    const itemType = this.valueType(`item type of ${what}`);
    const n = this.count(`length of ${what}`, SCALAR_SIZE[itemType]);
    const items: GgufItem[] = new Array<GgufItem>(n);
    for (let i = 0; i < n; i++) items[i] = itemType === 'array' ? this.array(`${what}[${i}]`, depth + 1) : this.scalar(itemType, `${what}[${i}]`);
    return { type: 'array', itemType, value: items };
  }
}

/**
 * Parses a GGUF file held in memory. `source` names it in errors. Checks the header, metadata and tensor
 * directory, and that every decodable tensor's data lies inside the file.
 */
export function parseGguf(bytes: Uint8Array, source = 'GGUF data'): GgufFile {
  const c = new Cursor(bytes, source);
  if (bytes.byteLength < 4 || new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) !== MAGIC) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new EngineError(`${source}: not a GGUF file (expected magic "GGUF" = 47 47 55 46, found ${head || 'an empty file'})`);
  }
  c.pos = 4;
  const version = c.u32('version');
  if (version !== 2 && version !== 3) {
    throw new EngineError(`${source}: unsupported GGUF version ${version} (this reader supports versions 2 and 3)`);
  }
  // Minimal encodings: a tensor directory entry is ≥ 24 bytes (empty name, 0 dims), a metadata pair ≥ 13.
  const tensorCount = c.count('tensor count', 24);
  const kvCount = c.count('metadata count', 13);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key #${i}`);
    const type = c.valueType(`type of metadata '${key}'`);
    const value: GgufValue =
      type === 'array' ? c.array(`metadata '${key}'`, 0) : ({ type, value: c.scalar(type, `metadata '${key}'`) } as GgufValue);
    if (metadata.has(key)) throw new EngineError(`${source}: malformed GGUF file: metadata key '${key}' appears twice`);
    metadata.set(key, value);
  }
  const alignValue = metadata.get('general.alignment');
  let alignment = 32;
  if (alignValue !== undefined) {
    const a = typeof alignValue.value === 'bigint' ? Number(alignValue.value) : alignValue.value;
    if (typeof a !== 'number' || !Number.isInteger(a) || a <= 0 || a % 8 !== 0 || a > 1 << 20) {
      throw new EngineError(`${source}: general.alignment must be a positive multiple of 8, got ${String(a)}`);
    }
    alignment = a;
  }
  const infos: { name: string; shape: number[]; type: number; offset: bigint }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`name of tensor #${i}`);
    const at = c.pos;
    const nDims = c.u32(`dimension count of tensor '${name}'`);
    if (nDims < 1 || nDims > MAX_DIMS) {
      throw new EngineError(`${source}: malformed GGUF file: tensor '${name}' has ${nDims} dimensions at byte offset ${at} (expected 1 to ${MAX_DIMS})`);
    }
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const dim = c.u64(`dimension ${d} of tensor '${name}'`);
      if (dim < 1n || dim > BigInt(bytes.byteLength) * 8n) {
        throw new EngineError(`${source}: malformed GGUF file: tensor '${name}' has dimension ${d} = ${dim}, impossible for a ${bytes.byteLength}-byte file`);
      }
      shape.push(Number(dim));
    }
    const type = c.u32(`type of tensor '${name}'`);
    const offset = c.u64(`data offset of tensor '${name}'`);
    if (names.has(name)) throw new EngineError(`${source}: malformed GGUF file: tensor '${name}' appears twice`);
    names.add(name);
    infos.push({ name, shape, type, offset });
  }
  const dataOffset = alignUp(c.pos, alignment);
  const dataBytes = Math.max(0, bytes.byteLength - dataOffset);
  const tensors: GgufTensorInfo[] = infos.map((t) => {
    const elems = t.shape.reduce((a, b) => a * b, 1);
    const dec = DECODABLE[t.type];
    let byteLength = -1;
    if (dec) {
      if (elems % dec.blockElems !== 0) {
        throw new EngineError(`${source}: tensor '${t.name}' of type ${ggmlTypeName(t.type)} has ${elems} elements, not a multiple of its block size ${dec.blockElems}`);
      }
      byteLength = (elems / dec.blockElems) * dec.blockBytes;
    }
    if (t.offset % BigInt(alignment) !== 0n) {
      throw new EngineError(`${source}: malformed GGUF file: tensor '${t.name}' data offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    }
    if (t.offset + BigInt(Math.max(byteLength, 0)) > BigInt(dataBytes)) {
      throw new EngineError(
        `${source}: truncated GGUF file: tensor '${t.name}' needs bytes ${dataOffset + Number(t.offset)}..${dataOffset + Number(t.offset) + byteLength} but the file ends at ${bytes.byteLength}`,
      );
    }
    return { name: t.name, shape: t.shape, type: t.type, offset: Number(t.offset), byteLength };
  });
  return { source, version, alignment, metadata, tensors, dataOffset, bytes };
}

/** Decodes one tensor to float32 (F32 is copied; F16, BF16 and Q8_0 are dequantised). */
export function tensorF32(file: GgufFile, name: string): Float32Array {
  const info = file.tensors.find((t) => t.name === name);
  if (!info) throw new EngineError(`${file.source}: tensor '${name}' is missing`);
  const dec = DECODABLE[info.type];
  if (!dec) {
    throw new EngineError(
      `${file.source}: tensor '${name}' has type ${ggmlTypeName(info.type)}, which this engine cannot load (supported: F32, F16, BF16, Q8_0)`,
    );
  }
  const start = file.dataOffset + info.offset;
  const n = info.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(file.bytes.buffer, file.bytes.byteOffset + start, info.byteLength);
  const out = new Float32Array(n);
  switch (info.type) {
    case GGML_TYPES.F32:
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case GGML_TYPES.F16:
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      break;
    case GGML_TYPES.BF16: {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    case GGML_TYPES.Q8_0:
      for (let b = 0; b < n / 32; b++) {
        const d = f16ToF32(view.getUint16(b * 34, true));
        for (let j = 0; j < 32; j++) out[b * 32 + j] = d * view.getInt8(b * 34 + 2 + j);
      }
      break;
  }
  return out;
}

/** IEEE half → single precision (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Single → IEEE half precision, round to nearest even (used by tests and by F16 writing). */
export function f32ToF16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  // a carry out of the mantissa correctly bumps the exponent (and may round up to infinity)
  return sign | half;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

// ───────────────────────────── writing ─────────────────────────────

/**
 * A tensor to write, `shape` in GGUF order (ne0 first): float values written as F32 (or F16 when `type` says
 * so), or already-encoded bytes of any ggml type copied through unchanged.
 */
export type GgufTensorOut =
  | { readonly name: string; readonly shape: readonly number[]; readonly data: Float32Array; readonly type?: typeof GGML_TYPES.F32 | typeof GGML_TYPES.F16 }
  | { readonly name: string; readonly shape: readonly number[]; readonly raw: Uint8Array; readonly type: number };

/**
 * Serialises a GGUF v3 file: metadata in insertion order, tensors in the given order, each tensor's data
 * aligned to `general.alignment` (default 32) and padded after. The same input always gives the same bytes.
 */
export function writeGguf(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorOut[]): Uint8Array {
  const alignValue = metadata.get('general.alignment');
  const alignment = alignValue && typeof alignValue.value === 'number' ? alignValue.value : 32;
  const w = new Writer();
  w.u32(MAGIC);
  w.u32(3);
  w.u64(BigInt(tensors.length));
  w.u64(BigInt(metadata.size));
  for (const [key, value] of metadata) {
    w.string(key);
    w.u32(SCALAR_IDS.indexOf(value.type));
    if (value.type === 'array') w.array(value);
    else w.scalar(value.type, value.value);
  }
  let offset = 0;
  const placed: { t: GgufTensorOut; offset: number }[] = [];
  for (const t of tensors) {
    const elems = t.shape.reduce((a, b) => a * b, 1);
    let bytes: number;
    if ('raw' in t) {
      bytes = t.raw.byteLength;
    } else {
      if (elems !== t.data.length) {
        throw new EngineError(`writeGguf: tensor '${t.name}' has shape [${t.shape.join(', ')}] (${elems} elements) but ${t.data.length} values`);
      }
      bytes = elems * (t.type === GGML_TYPES.F16 ? 2 : 4);
    }
    w.string(t.name);
    w.u32(t.shape.length);
    for (const d of t.shape) w.u64(BigInt(d));
    w.u32(t.type ?? GGML_TYPES.F32);
    w.u64(BigInt(offset));
    placed.push({ t, offset });
    offset = alignUp(offset + bytes, alignment);
  }
  w.pad(alignment);
  const dataStart = w.length;
  const out = new Uint8Array(dataStart + offset);
  out.set(w.bytes(), 0);
  const view = new DataView(out.buffer);
  for (const { t, offset: off } of placed) {
    const base = dataStart + off;
    if ('raw' in t) out.set(t.raw, base);
    else if (t.type === GGML_TYPES.F16) for (let i = 0; i < t.data.length; i++) view.setUint16(base + i * 2, f32ToF16(t.data[i]!), true);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(base + i * 4, t.data[i]!, true);
  }
  return out;
}

/** A growable little-endian byte buffer. */
class Writer {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private readonly utf8 = new TextEncoder();
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, v, true);
    this.length += 8;
  }
  string(s: string): void {
    const b = this.utf8.encode(s);
    this.u64(BigInt(b.length));
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(alignment: number): void {
    const n = alignUp(this.length, alignment) - this.length;
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  scalar(type: GgufScalarType, v: GgufItem): void {
    const bad = (): never => {
      throw new EngineError(`writeGguf: value ${String(v)} does not fit GGUF type ${type}`);
    };
    if (type === 'string') return typeof v === 'string' ? this.string(v) : bad();
    if (type === 'bool') {
      if (typeof v !== 'boolean') bad();
      this.reserve(1);
      this.buf[this.length++] = v ? 1 : 0;
      return;
    }
    if (type === 'uint64' || type === 'int64') {
      if (typeof v !== 'bigint') bad();
      this.reserve(8);
      if (type === 'uint64') this.view.setBigUint64(this.length, v as bigint, true);
      else this.view.setBigInt64(this.length, v as bigint, true);
      this.length += 8;
      return;
    }
    if (typeof v !== 'number') return bad();
    const size = SCALAR_SIZE[type];
    this.reserve(size);
    const p = this.length;
    switch (type) {
      case 'uint8': this.view.setUint8(p, v); break;
      case 'int8': this.view.setInt8(p, v); break;
      case 'uint16': this.view.setUint16(p, v, true); break;
      case 'int16': this.view.setInt16(p, v, true); break;
      case 'uint32': this.view.setUint32(p, v, true); break;
      case 'int32': this.view.setInt32(p, v, true); break;
      case 'float32': this.view.setFloat32(p, v, true); break;
      case 'float64': this.view.setFloat64(p, v, true); break;
    }
    this.length += size;
  }
  array(a: GgufArray): void {
    this.u32(SCALAR_IDS.indexOf(a.itemType));
    this.u64(BigInt(a.value.length));
    for (const item of a.value) {
      if (a.itemType === 'array') {
        if (typeof item !== 'object') throw new EngineError(`writeGguf: array of arrays holds a ${typeof item}`);
        this.array(item);
      } else this.scalar(a.itemType, item);
    }
  }
}

// ───────────────────────────── metadata helpers ─────────────────────────────

/** A numeric metadata value (any integer or float type), or undefined when absent. Errors on a wrong type. */
export function metaNumber(file: Pick<GgufFile, 'metadata' | 'source'>, key: string): number | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) return undefined;
  if (typeof v.value === 'number') return v.value;
  if (typeof v.value === 'bigint') return Number(v.value);
  throw new EngineError(`${file.source}: metadata '${key}' should be a number, found ${v.type}`);
}

/** A string metadata value, or undefined when absent. Errors on a wrong type. */
export function metaString(file: Pick<GgufFile, 'metadata' | 'source'>, key: string): string | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) return undefined;
  if (v.type === 'string') return v.value;
  throw new EngineError(`${file.source}: metadata '${key}' should be a string, found ${v.type}`);
}

/** An array metadata value, or undefined when absent. Errors on a wrong type. */
export function metaArray(file: Pick<GgufFile, 'metadata' | 'source'>, key: string): GgufArray | undefined {
  const v = file.metadata.get(key);
  if (v === undefined) return undefined;
  if (v.type === 'array') return v;
  throw new EngineError(`${file.source}: metadata '${key}' should be an array, found ${v.type}`);
}

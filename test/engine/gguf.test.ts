import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';
import {
  GGML_TYPES,
  f16ToF32,
  f32ToF16,
  parseGguf,
  tensorF32,
  writeGguf,
  type GgufTensorOut,
  type GgufValue,
} from '../../src/engine/gguf.js';

/** Metadata using every value type, including nested and empty arrays, 64-bit extremes and non-ASCII text. */
function allTypesMetadata(): Map<string, GgufValue> {
  return new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['t.u8', { type: 'uint8', value: 255 }],
    ['t.i8', { type: 'int8', value: -128 }],
    ['t.u16', { type: 'uint16', value: 65535 }],
    ['t.i16', { type: 'int16', value: -32768 }],
    ['t.u32', { type: 'uint32', value: 4294967295 }],
    ['t.i32', { type: 'int32', value: -2147483648 }],
    ['t.f32', { type: 'float32', value: Math.fround(0.1) }],
    ['t.bool', { type: 'bool', value: true }],
    ['t.str', { type: 'string', value: 'héllo ▁ 😀' }],
    ['t.u64', { type: 'uint64', value: 18446744073709551615n }],
    ['t.i64', { type: 'int64', value: -9223372036854775808n }],
    ['t.f64', { type: 'float64', value: Math.PI }],
    ['t.arr.str', { type: 'array', itemType: 'string', value: ['a', '', '<0x0A>'] }],
    ['t.arr.f32', { type: 'array', itemType: 'float32', value: [0, -1.5, Math.fround(3.3)] }],
    ['t.arr.empty', { type: 'array', itemType: 'int32', value: [] }],
    ['t.arr.u64', { type: 'array', itemType: 'uint64', value: [1n, 2n ** 40n] }],
    [
      't.arr.nested',
      { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'bool', value: [true, false] }, { type: 'array', itemType: 'int8', value: [-1] }] },
    ],
  ]);
}

function sampleTensors(): GgufTensorOut[] {
  const rng = new Rng('gguf-test');
  const a = Float32Array.from({ length: 6 * 5 }, () => rng.normal());
  const b = Float32Array.from({ length: 7 }, () => rng.normal());
  return [
    { name: 'a', shape: [6, 5], data: a },
    { name: 'b', shape: [7], data: b },
    { name: 'c.half', shape: [2, 3], data: Float32Array.of(1, -2, 0.5, 65504, 2 ** -24, 0), type: GGML_TYPES.F16 },
  ];
}

describe('GGUF writer and reader', () => {
  it('round-trips every metadata type and F32/F16 tensors, with aligned offsets', () => {
    const meta = allTypesMetadata();
    const tensors = sampleTensors();
    const bytes = writeGguf(meta, tensors);
    const file = parseGguf(bytes, 'mem');
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(32);
    expect(file.dataOffset % 32).toBe(0);
    expect([...file.metadata.keys()]).toEqual([...meta.keys()]);
    for (const [k, v] of meta) expect(file.metadata.get(k), k).toEqual(v);
    for (const t of file.tensors) expect(t.offset % 32).toBe(0);
    expect(tensorF32(file, 'a')).toEqual((tensors[0] as { data: Float32Array }).data);
    expect(tensorF32(file, 'b')).toEqual((tensors[1] as { data: Float32Array }).data);
    expect(Array.from(tensorF32(file, 'c.half'))).toEqual([1, -2, 0.5, 65504, 2 ** -24, 0]);
    expect(file.tensors.map((t) => t.shape)).toEqual([[6, 5], [7], [2, 3]]);
  });

  it('writes deterministic bytes and re-writes a parsed file byte for byte', () => {
    const a = writeGguf(allTypesMetadata(), sampleTensors());
    const b = writeGguf(allTypesMetadata(), sampleTensors());
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    const f = parseGguf(a);
    const again = writeGguf(
      f.metadata,
      f.tensors.map((t) => ({ name: t.name, shape: t.shape, raw: f.bytes.subarray(f.dataOffset + t.offset, f.dataOffset + t.offset + t.byteLength), type: t.type })),
    );
    expect(Buffer.compare(Buffer.from(again), Buffer.from(a))).toBe(0);
  });

  it('honours general.alignment', () => {
    const meta = new Map<string, GgufValue>([['general.alignment', { type: 'uint32', value: 64 }]]);
    const f = parseGguf(writeGguf(meta, sampleTensors()));
    expect(f.alignment).toBe(64);
    expect(f.dataOffset % 64).toBe(0);
    for (const t of f.tensors) expect(t.offset % 64).toBe(0);
    expect(tensorF32(f, 'b')).toEqual((sampleTensors()[1] as { data: Float32Array }).data);
  });

  it('reads version 2 files (same little-endian layout)', () => {
    const bytes = writeGguf(allTypesMetadata(), sampleTensors());
    new DataView(bytes.buffer).setUint32(4, 2, true);
    const f = parseGguf(bytes);
    expect(f.version).toBe(2);
    expect(tensorF32(f, 'a').length).toBe(30);
  });

  it('dequantises BF16 and Q8_0', () => {
    const bf = new Uint8Array(6);
    const dv = new DataView(bf.buffer);
    [1.5, -2, 3.140625].forEach((x, i) => dv.setUint16(i * 2, new Uint32Array(Float32Array.of(x).buffer)[0]! >>> 16, true));
    const q = new Uint8Array(34 * 2);
    const qv = new DataView(q.buffer);
    qv.setUint16(0, f32ToF16(0.5), true);
    qv.setUint16(34, f32ToF16(-0.25), true);
    for (let j = 0; j < 32; j++) {
      qv.setInt8(2 + j, j - 16);
      qv.setInt8(36 + j, 127 - j);
    }
    const f = parseGguf(
      writeGguf(new Map(), [
        { name: 'bf', shape: [3], raw: bf, type: GGML_TYPES.BF16 },
        { name: 'q', shape: [32, 2], raw: q, type: GGML_TYPES.Q8_0 },
      ]),
    );
    expect(Array.from(tensorF32(f, 'bf'))).toEqual([1.5, -2, 3.140625]);
    const deq = tensorF32(f, 'q');
    expect(deq[0]).toBe(-8);
    expect(deq[31]).toBe(7.5);
    expect(deq[32]).toBe(-31.75);
    expect(deq[63]).toBe(-0.25 * 96);
  });

  it('converts half precision exactly both ways', () => {
    for (const x of [0, 1, -1, 0.333251953125, 65504, 2 ** -14, 2 ** -24, 3 * 2 ** -24]) expect(f16ToF32(f32ToF16(x))).toBe(x);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f16ToF32(f32ToF16(1 + 2 ** -11))).toBe(1); // ties round to even
  });
});

describe('GGUF reader errors', () => {
  const good = writeGguf(allTypesMetadata(), sampleTensors());

  it('rejects a file that is not GGUF, naming what it found', () => {
    expect(() => parseGguf(new TextEncoder().encode('PK\u0003\u0004rest'), 'x.zip')).toThrow(/x\.zip: not a GGUF file.*50 4b 03 04/);
    expect(() => parseGguf(new Uint8Array(0), 'empty')).toThrow(/not a GGUF file.*empty file/);
  });

  it('rejects unsupported versions', () => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(4, 1, true);
    expect(() => parseGguf(b)).toThrow(/unsupported GGUF version 1/);
  });

  it('names the byte offset of a truncation in the header, and the tensor when data is cut', () => {
    expect(() => parseGguf(good.subarray(0, 100), 'cut.gguf')).toThrow(/cut\.gguf: truncated .*byte offset \d+/);
    expect(() => parseGguf(good.subarray(0, good.length - 24), 'cut.gguf')).toThrow(/truncated GGUF file: tensor 'c\.half'/);
  });

  it('fails fast on absurd counts instead of looping or allocating', () => {
    const b = good.slice();
    new DataView(b.buffer).setBigUint64(8, 2n ** 60n, true); // tensor count
    const t0 = performance.now();
    expect(() => parseGguf(b)).toThrow(/tensor count at byte offset 8 is 1152921504606846976/);
    const c = good.slice();
    new DataView(c.buffer).setBigUint64(16, 2n ** 62n, true); // metadata count
    expect(() => parseGguf(c)).toThrow(/metadata count/);
    const d = good.slice();
    new DataView(d.buffer).setBigUint64(24, 2n ** 63n, true); // length of the first key
    expect(() => parseGguf(d)).toThrow(/length of metadata key #0/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('names the tensor and type it cannot decode', () => {
    const f = parseGguf(writeGguf(new Map(), [{ name: 'blk.0.ffn_up.weight', shape: [256], raw: new Uint8Array(144), type: GGML_TYPES.Q4_K }]));
    expect(() => tensorF32(f, 'blk.0.ffn_up.weight')).toThrow(/tensor 'blk\.0\.ffn_up\.weight' has type Q4_K, which this engine cannot load/);
    expect(() => tensorF32(f, 'nope')).toThrow(/tensor 'nope' is missing/);
  });

  it('survives random corruption: every outcome is a parse or an EngineError', () => {
    const rng = new Rng('gguf-fuzz');
    let errors = 0;
    for (let trial = 0; trial < 300; trial++) {
      const b = good.slice();
      const flips = 1 + rng.int(4);
      for (let k = 0; k < flips; k++) b[rng.int(Math.min(b.length, 900))] = rng.int(256);
      const cut = rng.float() < 0.3 ? b.subarray(0, rng.int(b.length)) : b;
      try {
        const f = parseGguf(cut, 'fuzz');
        for (const t of f.tensors) if (t.byteLength >= 0) tensorF32(f, t.name);
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('GGUF files on disk', () => {
  it('the written file starts with the GGUF magic and version 3', () => {
    const b = writeGguf(new Map(), []);
    expect(new TextDecoder().decode(b.subarray(0, 4))).toBe('GGUF');
    expect(new DataView(b.buffer).getUint32(4, true)).toBe(3);
    expect(parseGguf(b).tensors).toEqual([]);
  });

  it('rejects a JSON file as not GGUF', () => {
    const p = new URL('../../package.json', import.meta.url);
    expect(() => parseGguf(readFileSync(p), 'package.json')).toThrow(EngineError);
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainBpe } from '../../src/engine/bpe-trainer.js';
import { parseGguf, tensorF32, writeGguf, type GgufValue } from '../../src/engine/gguf.js';
import { loadModelBytes, loadModelFile, modelToGguf, saveModelFile } from '../../src/engine/load.js';
import { tensorShapes, type LlamaConfig } from '../../src/engine/types.js';
import { EngineError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';
import { sharedPath } from '../../src/shared-path.js';

const stories = sharedPath('models/stories260K.gguf');
const STORIES_SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';

const tiny: LlamaConfig = {
  vocabSize: 280, dim: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 24, contextLength: 64,
  normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true,
};

function randomTensors(c: LlamaConfig, seed: string): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const m = new Map<string, Float32Array>();
  for (const [name, shape] of tensorShapes(c)) m.set(name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.1));
  return m;
}

function tinyModel(seed = 'tiny', config: LlamaConfig = tiny) {
  const tokenizer = trainBpe(['the cat sat on the mat', 'the dog sat on the log', 'a cat and a dog'], { vocabSize: config.vocabSize });
  expect(tokenizer.tokens.length).toBe(config.vocabSize);
  return { name: 'tiny-test', config, tensors: randomTensors(config, seed), tokenizer };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

const dir = mkdtempSync(join(tmpdir(), 'vtune-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model ↔ GGUF', () => {
  it('writes a model and reads back the same config, tensors and tokenizer', () => {
    const m = tinyModel();
    const bytes = modelToGguf(m);
    const back = loadModelBytes(bytes, 'tiny.gguf');
    expect(back.name).toBe('tiny-test');
    expect(back.config).toEqual({ ...tiny, normEps: Math.fround(1e-5) });
    expect([...back.tensors.keys()]).toEqual([...tensorShapes(tiny).keys()]);
    for (const [k, v] of m.tensors) expect(back.tensors.get(k), k).toEqual(v);
    expect(back.tokenizer.data.tokens).toEqual(m.tokenizer.tokens);
    expect(back.tokenizer.data.scores).toEqual(m.tokenizer.scores);
    expect(back.tokenizer.data.types).toEqual(m.tokenizer.types);
    expect(back.tokenizer.encode('the cat sat')).toEqual(loadModelBytes(bytes).tokenizer.encode('the cat sat'));
    // deterministic bytes
    expect(Buffer.compare(Buffer.from(modelToGguf(tinyModel())), Buffer.from(bytes))).toBe(0);
  });

  it('writes the llama.cpp metadata keys with the right types', () => {
    const f = parseGguf(modelToGguf({ ...tinyModel(), config: { ...tiny, tiedEmbeddings: false }, tensors: randomTensors({ ...tiny, tiedEmbeddings: false }, 'u') }));
    const get = (k: string) => f.metadata.get(k);
    expect(get('general.architecture')).toEqual({ type: 'string', value: 'llama' });
    expect(get('general.file_type')).toEqual({ type: 'uint32', value: 0 });
    expect(get('llama.context_length')).toEqual({ type: 'uint32', value: 64 });
    expect(get('llama.embedding_length')).toEqual({ type: 'uint32', value: 16 });
    expect(get('llama.block_count')).toEqual({ type: 'uint32', value: 2 });
    expect(get('llama.feed_forward_length')).toEqual({ type: 'uint32', value: 24 });
    expect(get('llama.rope.dimension_count')).toEqual({ type: 'uint32', value: 4 });
    expect(get('llama.attention.head_count')).toEqual({ type: 'uint32', value: 4 });
    expect(get('llama.attention.head_count_kv')).toEqual({ type: 'uint32', value: 2 });
    expect(get('llama.attention.layer_norm_rms_epsilon')?.type).toBe('float32');
    expect(get('llama.rope.freq_base')).toEqual({ type: 'float32', value: 10000 });
    expect(get('tokenizer.ggml.model')).toEqual({ type: 'string', value: 'llama' });
    expect(get('tokenizer.ggml.token_type')?.type === 'array' && get('tokenizer.ggml.token_type')).toMatchObject({ itemType: 'int32' });
    expect(get('tokenizer.ggml.bos_token_id')).toEqual({ type: 'uint32', value: 1 });
    expect(f.tensors.find((t) => t.name === 'output.weight')?.shape).toEqual([16, 280]);
    expect(f.tensors.find((t) => t.name === 'blk.1.ffn_down.weight')?.shape).toEqual([24, 16]);
    expect(f.tensors.every((t) => t.type === 0 && t.offset % 32 === 0)).toBe(true);
  });

  it('saves through a temporary file and never overwrites without being asked', async () => {
    const p = join(dir, 'm.gguf');
    await saveModelFile(p, tinyModel());
    await expect(saveModelFile(p, tinyModel('other'))).rejects.toThrow(/refusing to overwrite .*m\.gguf/);
    const before = readFileSync(p);
    await saveModelFile(p, tinyModel('other'), { overwrite: true });
    expect(Buffer.compare(before, readFileSync(p))).not.toBe(0);
    expect((await loadModelFile(p)).tensors.get('token_embd.weight')).toEqual(tinyModel('other').tensors.get('token_embd.weight'));
  });
});

describe('model file errors', () => {
  const good = modelToGguf(tinyModel());
  const file = parseGguf(good);
  const rewrite = (edit: (meta: Map<string, GgufValue>, tensors: { name: string; shape: readonly number[]; data: Float32Array }[]) => void) => {
    const meta = new Map(file.metadata);
    const tensors = file.tensors.map((t) => ({ name: t.name, shape: t.shape, data: tensorF32(file, t.name) }));
    edit(meta, tensors);
    return writeGguf(meta, tensors);
  };

  it('refuses other architectures by name', () => {
    const b = rewrite((m) => m.set('general.architecture', { type: 'string', value: 'gpt2' }));
    expect(() => loadModelBytes(b, 'gpt2.gguf')).toThrow(/gpt2\.gguf: general\.architecture is 'gpt2'; this engine only runs 'llama' models/);
  });

  it('names a tensor whose shape disagrees with the config', () => {
    const b = rewrite((m) => m.set('llama.feed_forward_length', { type: 'uint32', value: 32 }));
    expect(() => loadModelBytes(b, 'bad.gguf')).toThrow(/tensor 'blk\.0\.ffn_gate\.weight' has shape \[16, 24\] but the config .*implies \[16, 32\]/);
  });

  it('names a missing tensor and refuses unknown ones', () => {
    const missing = rewrite((_m, t) => t.splice(t.findIndex((x) => x.name === 'blk.1.attn_v.weight'), 1));
    expect(() => loadModelBytes(missing, 'm.gguf')).toThrow(/tensor 'blk\.1\.attn_v\.weight' is missing/);
    const extra = rewrite((_m, t) => t.push({ name: 'blk.0.attn_q.bias', shape: [16], data: new Float32Array(16) }));
    expect(() => loadModelBytes(extra, 'm.gguf')).toThrow(/unexpected tensor 'blk\.0\.attn_q\.bias'/);
  });

  it('names missing metadata and impossible head counts', () => {
    expect(() => loadModelBytes(rewrite((m) => m.delete('llama.block_count')), 'm.gguf')).toThrow(/'llama\.block_count' is missing/);
    expect(() => loadModelBytes(rewrite((m) => m.set('llama.attention.head_count_kv', { type: 'uint32', value: 3 })), 'm.gguf')).toThrow(/not divisible by 3 kv heads/);
    expect(() => loadModelBytes(rewrite((m) => m.set('tokenizer.ggml.model', { type: 'string', value: 'gpt2' })), 'm.gguf')).toThrow(/only the 'llama' \(SentencePiece BPE\) tokenizer/);
  });

  it('refuses rope scaling it does not implement', () => {
    expect(() => loadModelBytes(rewrite((m) => m.set('llama.rope.scaling.type', { type: 'string', value: 'yarn' })), 'm.gguf')).toThrow(/rope\.scaling\.type is 'yarn'/);
  });

  it('loads F16 weights as float32 within half precision', () => {
    const half = writeGguf(
      new Map(file.metadata),
      file.tensors.map((t) => ({ name: t.name, shape: t.shape, data: tensorF32(file, t.name), type: 1 as const })),
    );
    const m = loadModelBytes(half, 'half.gguf');
    const want = tinyModel().tensors.get('blk.0.attn_q.weight')!;
    const got = m.tensors.get('blk.0.attn_q.weight')!;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 2 ** -11 + 2 ** -24);
  });

  it('reports a missing file as an EngineError naming it', async () => {
    await expect(loadModelFile(join(dir, 'nope.gguf'))).rejects.toThrow(/cannot read model file .*nope\.gguf/);
    await expect(loadModelFile(join(dir, 'nope.gguf'))).rejects.toBeInstanceOf(EngineError);
  });

  it('refuses a truncated model naming the tensor', () => {
    expect(() => loadModelBytes(good.subarray(0, good.length - 100), 'cut.gguf')).toThrow(/cut\.gguf: truncated GGUF file: tensor 'blk\.1\.ffn_\w+\.weight' needs bytes/);
  });
});

describe.skipIf(!stories)('stories260K.gguf', () => {
  const bytes = stories ? readFileSync(stories) : new Uint8Array();

  it('is the pinned file', () => {
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(STORIES_SHA256);
  });

  it('loads with the documented config; output.weight equals token_embd', () => {
    const m = loadModelBytes(bytes, 'stories260K.gguf');
    const { normEps, ...rest } = m.config;
    expect(rest).toEqual({ vocabSize: 512, dim: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, hiddenDim: 172, contextLength: 2048, ropeTheta: 10000, tiedEmbeddings: false });
    expect(normEps).toBeCloseTo(1e-5, 10);
    let params = 0;
    for (const t of m.tensors.values()) params += t.length;
    expect(params - m.tensors.get('output.weight')!.length).toBe(260_032); // llama2.c counts the shared classifier once
    expect(m.tensors.get('output.weight')).toEqual(m.tensors.get('token_embd.weight'));
    expect(m.tokenizer.vocabSize).toBe(512);
  });

  it('re-writes the file byte for byte from its parsed form', () => {
    const f = parseGguf(bytes);
    const out = writeGguf(f.metadata, f.tensors.map((t) => ({ name: t.name, shape: t.shape, data: tensorF32(f, t.name) })));
    expect(out.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(bytes))).toBe(0);
  });

  it('saves as our own GGUF and reads back identical tensors, config and tokenizer', async () => {
    const m = loadModelBytes(bytes);
    const p = join(dir, 'stories-copy.gguf');
    await saveModelFile(p, m);
    const back = await loadModelFile(p);
    expect(back.config).toEqual(m.config);
    for (const [k, v] of m.tensors) expect(sameBits(back.tensors.get(k)!, v), k).toBe(true);
    expect(back.tokenizer.data.tokens).toEqual(m.tokenizer.data.tokens);
    expect(back.tokenizer.data.scores).toEqual(m.tokenizer.data.scores);
    expect(back.tokenizer.encode('Once upon a time, Lily 42 😀')).toEqual(m.tokenizer.encode('Once upon a time, Lily 42 😀'));
    writeFileSync(join(dir, 'again.gguf'), modelToGguf(back));
    expect(Buffer.compare(readFileSync(join(dir, 'again.gguf')), readFileSync(p))).toBe(0);
  });
});

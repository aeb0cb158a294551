/**
 * Inference on a LlamaModel: batched generation with a KV cache (greedy, or temperature/top-p sampling from a
 * seeded stream per prompt), exact per-token log-probabilities by teacher forcing, mean-pooled embeddings and
 * the weighted loss. All scratch is taken above the model's parameters and released after each call.
 */
import { EngineError } from '../errors.js';
import { Rng } from '../rng.js';
import type { LlamaConfig } from './types.js';
import { mm } from './kernels.js';
import type { LlamaModel } from './model.js';
import { type BatchIO, type NetPtrs, allocActs, forward, netPtrs, ropeTable } from './transformer.js';
import { type TokenizedExample, prepareExamples } from './train.js';

/** Generation options. */
export interface GenerateOptions {
  maxTokens: number;
  /** 0 or undefined: greedy. */
  temperature?: number;
  /** Nucleus sampling mass (default 1). */
  topP?: number;
  seed?: number;
  /** Generation of a sequence ends at any of these (the stop token is not returned). */
  stopTokens?: number[];
}

/** Rows per forward chunk when scoring: bounds scratch memory whatever the number of items. */
const MAX_ROWS = 4096;

const ctxs = new WeakMap<LlamaModel, NetPtrs>();
/** The forward-only pointers of a model (the RoPE table is allocated once, right above the parameters). */
function netOf(model: LlamaModel): NetPtrs {
  model.check();
  let net = ctxs.get(model);
  if (!net) {
    net = netPtrs(model.layout, model.paramPtr, 0, 0, ropeTable(model.arena, model.config));
    ctxs.set(model, net);
  }
  return net;
}

function checkTokens(seq: readonly number[], c: LlamaConfig, what: string): void {
  if (!Array.isArray(seq)) throw new EngineError(`${what}: expected an array of token ids`);
  for (let i = 0; i < seq.length; i++) {
    const t = seq[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new EngineError(`${what}: token ${i} is ${String(t)}, expected an integer in [0, ${c.vocabSize})`);
  }
}

/** Groups sequence indices into chunks whose padded size stays under MAX_ROWS rows. */
function chunks(lengths: readonly number[]): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let maxLen = 0;
  lengths.forEach((len, i) => {
    const m = Math.max(maxLen, len);
    if (cur.length > 0 && (cur.length + 1) * m > MAX_ROWS) {
      out.push(cur);
      cur = [];
      maxLen = 0;
    }
    cur.push(i);
    maxLen = Math.max(maxLen, len);
  });
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Runs a forward pass over `seqs` (padded to the longest) and hands the arena views to `use` before the
 * scratch is released.
 */
function withForward<R>(model: LlamaModel, seqs: readonly (readonly number[])[], logits: boolean, use: (views: { logits: (row: number, n: number) => number; xnF: number; T: number; io: BatchIO }) => R): R {
  const c = model.config;
  const net = netOf(model);
  const a = model.arena;
  const B = seqs.length;
  const T = seqs.reduce((m, s) => Math.max(m, s.length), 1);
  if (T > c.contextLength) throw new EngineError(`a sequence of ${T} tokens exceeds the context length ${c.contextLength}`);
  const mark = a.mark();
  try {
    const N = B * T;
    const io: BatchIO = { tok: a.alloc(N), pos: a.alloc(N), tgt: a.alloc(N), wts: a.alloc(N) };
    const tok = a.i32(io.tok, N), pos = a.i32(io.pos, N);
    tok.fill(0);
    seqs.forEach((s, b) => {
      tok.set(s, b * T);
      for (let t = 0; t < T; t++) pos[b * T + t] = t;
    });
    const acts = allocActs(a, c, B, T, false);
    forward(a.k, c, net, acts, io, B, T, logits);
    return use({ logits: (row) => acts.logits + row * c.vocabSize * 4, xnF: acts.xnF, T, io });
  } finally {
    a.release(mark);
  }
}

/** Exact ln p of each continuation token given the prompt and the continuation so far (teacher forcing). */
export function scoreTokens(model: LlamaModel, items: readonly { prompt: number[]; continuation: number[] }[]): Float64Array[] {
  const c = model.config;
  const seqs = items.map((it, i) => {
    checkTokens(it.prompt, c, `scoreTokens item ${i} prompt`);
    checkTokens(it.continuation, c, `scoreTokens item ${i} continuation`);
    if (it.prompt.length === 0) throw new EngineError(`scoreTokens item ${i}: the prompt is empty (start it with BOS)`);
    const s = [...it.prompt, ...it.continuation];
    if (s.length > c.contextLength) throw new EngineError(`scoreTokens item ${i}: ${s.length} tokens exceed the context length ${c.contextLength}`);
    return s;
  });
  const out: Float64Array[] = new Array(items.length);
  for (const chunk of chunks(seqs.map((s) => s.length))) {
    withForward(model, chunk.map((i) => seqs[i]!), true, ({ logits, T, io }) => {
      const a = model.arena;
      const N = chunk.length * T;
      const tgt = a.i32(io.tgt, N);
      tgt.fill(0);
      chunk.forEach((i, b) => tgt.set(seqs[i]!.slice(1), b * T));
      const lp = a.alloc(N * 2);
      a.k.logprobAt(logits(0, N), io.tgt, N, c.vocabSize, lp);
      const v = a.f64(lp, N);
      chunk.forEach((i, b) => {
        const p = items[i]!.prompt.length;
        const n = items[i]!.continuation.length;
        out[i] = Float64Array.from(v.subarray(b * T + p - 1, b * T + p - 1 + n));
      });
    });
  }
  return out;
}

/**
 * The logits of the token after each sequence (its last position), by one full forward pass per chunk: what
 * `generate` samples its first token from, and (up to float rounding of the KV-cached path) every later one.
 */
export function nextTokenLogits(model: LlamaModel, seqs: readonly (readonly number[])[]): Float32Array[] {
  const c = model.config;
  seqs.forEach((s, i) => {
    checkTokens(s, c, `nextTokenLogits sequence ${i}`);
    if (s.length === 0) throw new EngineError(`nextTokenLogits sequence ${i} is empty (start it with BOS)`);
  });
  const out: Float32Array[] = new Array(seqs.length);
  for (const chunk of chunks(seqs.map((s) => s.length))) {
    withForward(model, chunk.map((i) => seqs[i]!), true, ({ logits, T }) => {
      chunk.forEach((i, b) => {
        out[i] = Float32Array.from(model.arena.f32(logits(b * T + seqs[i]!.length - 1, 1), c.vocabSize));
      });
    });
  }
  return out;
}

/** Mean weighted negative log-likelihood Σ w·nll / Σ|w| over all examples (double-precision log-softmax). */
export function lossOf(model: LlamaModel, examples: readonly TokenizedExample[]): number {
  const c = model.config;
  const data = prepareExamples(examples, c, c.contextLength);
  let sum = 0;
  let norm = 0;
  for (const chunk of chunks(data.map((d) => d.tokens.length))) {
    withForward(model, chunk.map((i) => Array.from(data[i]!.tokens)), true, ({ logits, T, io }) => {
      const a = model.arena;
      const N = chunk.length * T;
      const tgt = a.i32(io.tgt, N);
      tgt.fill(0);
      chunk.forEach((i, b) => tgt.set(data[i]!.tokens.subarray(1), b * T));
      const lp = a.alloc(N * 2);
      a.k.logprobAt(logits(0, N), io.tgt, N, c.vocabSize, lp);
      const v = a.f64(lp, N);
      chunk.forEach((i, b) => {
        const w = data[i]!.weights;
        for (let t = 0; t < w.length; t++) {
          if (w[t] === 0) continue;
          sum -= w[t]! * v[b * T + t]!;
          norm += Math.abs(w[t]!);
        }
      });
    });
  }
  if (norm === 0) throw new EngineError('lossOf: every loss weight is 0');
  return sum / norm;
}

/** Mean over positions of the final (normalised) hidden states of each sequence. */
export function embed(model: LlamaModel, seqs: readonly number[][]): Float32Array[] {
  const c = model.config;
  seqs.forEach((s, i) => {
    checkTokens(s, c, `embed sequence ${i}`);
    if (s.length === 0) throw new EngineError(`embed sequence ${i} is empty`);
  });
  const out: Float32Array[] = new Array(seqs.length);
  for (const chunk of chunks(seqs.map((s) => s.length))) {
    withForward(model, chunk.map((i) => seqs[i]!), false, ({ xnF, T }) => {
      const h = model.arena.f32(xnF, chunk.length * T * c.dim);
      chunk.forEach((i, b) => {
        const n = seqs[i]!.length;
        const acc = new Float64Array(c.dim);
        for (let t = 0; t < n; t++) {
          const o = (b * T + t) * c.dim;
          for (let d = 0; d < c.dim; d++) acc[d] += h[o + d]!;
        }
        out[i] = Float32Array.from(acc, (x) => x / n);
      });
    });
  }
  return out;
}

/** Picks a token from logits: argmax when temperature is 0, else top-p sampling at that temperature. */
function pick(logits: Float32Array, temperature: number, topP: number, rng: Rng | undefined): number {
  let best = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
  if (!rng || temperature <= 0) return best;
  const mx = logits[best]!;
  const probs = Array.from(logits, (l, j) => ({ j, p: Math.exp((l - mx) / temperature) }));
  let z = 0;
  for (const e of probs) z += e.p;
  probs.sort((x, y) => y.p - x.p || x.j - y.j);
  let keep = probs.length;
  if (topP < 1) {
    let cum = 0;
    for (let i = 0; i < probs.length; i++) {
      cum += probs[i]!.p / z;
      if (cum >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let mass = 0;
  for (let i = 0; i < keep; i++) mass += probs[i]!.p;
  let u = rng.float() * mass;
  for (let i = 0; i < keep; i++) {
    u -= probs[i]!.p;
    if (u < 0) return probs[i]!.j;
  }
  return probs[keep - 1]!.j;
}

/**
 * Continues every prompt by up to maxTokens new tokens, batched with a KV cache. Returns the new tokens only
 * (without the stop token). A sequence also ends when it fills the context.
 */
export function generate(model: LlamaModel, prompts: readonly number[][], opts: GenerateOptions): number[][] {
  const c = model.config;
  const { maxTokens, temperature = 0, topP = 1, seed = 0, stopTokens = [] } = opts;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new EngineError(`generate: maxTokens must be a non-negative integer, got ${String(maxTokens)}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new EngineError(`generate: temperature must be ≥ 0, got ${String(temperature)}`);
  if (!(topP > 0 && topP <= 1)) throw new EngineError(`generate: topP must be in (0, 1], got ${String(topP)}`);
  prompts.forEach((p, i) => {
    checkTokens(p, c, `generate prompt ${i}`);
    if (p.length === 0) throw new EngineError(`generate prompt ${i} is empty (start it with BOS)`);
    if (p.length >= c.contextLength) throw new EngineError(`generate prompt ${i}: ${p.length} tokens leave no room in the context length ${c.contextLength}`);
  });
  const out: number[][] = prompts.map(() => []);
  if (prompts.length === 0 || maxTokens === 0) return out;
  const stops = new Set(stopTokens);
  const rngs = prompts.map((_, i) => (temperature > 0 ? new Rng(`generate:${seed}:${i}`) : undefined));
  // Batches of at most 64 sequences keep the KV cache and prefill scratch bounded.
  for (let s = 0; s < prompts.length; s += 64) {
    const idx = prompts.slice(s, s + 64).map((_, j) => s + j);
    decodeBatch(model, idx.map((i) => prompts[i]!), maxTokens, (b, logits) => pick(logits, temperature, topP, rngs[idx[b]!]), stops, idx.map((i) => out[i]!));
  }
  return out;
}

function decodeBatch(model: LlamaModel, prompts: readonly number[][], maxTokens: number, choose: (b: number, logits: Float32Array) => number, stops: Set<number>, outs: number[][]): void {
  const c = model.config;
  const net = netOf(model);
  const a = model.arena;
  const k = a.k;
  const B = prompts.length;
  const dim = c.dim, hd = dim / c.nHeads, kvDim = hd * c.nKvHeads, hid = c.hiddenDim, V = c.vocabSize;
  const Tp = prompts.reduce((m, p) => Math.max(m, p.length), 0);
  const C = Math.min(c.contextLength, Tp + maxTokens);
  const mark = a.mark();
  try {
    const kc = Array.from({ length: c.nLayers }, () => a.alloc(B * C * kvDim));
    const vc = Array.from({ length: c.nLayers }, () => a.alloc(B * C * kvDim));
    const x = a.alloc(B * dim), xn = a.alloc(B * dim), q = a.alloc(B * dim), kk = a.alloc(B * kvDim), vv = a.alloc(B * kvDim);
    const att = a.alloc(B * dim), g = a.alloc(B * hid), u = a.alloc(B * hid), h = a.alloc(B * hid), rstd = a.alloc(B);
    const logits = a.alloc(B * V), posP = a.alloc(B), tokP = a.alloc(B), tmp = a.alloc(C);
    const mark2 = a.mark();
    // Prefill: one full forward over the padded prompts, then their K/V rows go to the cache.
    const lastRows = a.alloc(B * dim);
    {
      const N = B * Tp;
      const io: BatchIO = { tok: a.alloc(N), pos: a.alloc(N), tgt: 0, wts: 0 };
      const tok = a.i32(io.tok, N), pos = a.i32(io.pos, N);
      tok.fill(0);
      prompts.forEach((p, b) => {
        tok.set(p, b * Tp);
        for (let t = 0; t < Tp; t++) pos[b * Tp + t] = t;
      });
      const acts = allocActs(a, c, B, Tp, false);
      forward(k, c, net, acts, io, B, Tp, false);
      for (let l = 0; l < c.nLayers; l++) {
        const A = acts.layers[l]!;
        prompts.forEach((p, b) => {
          k.copyF(A.k + b * Tp * kvDim * 4, kc[l]! + b * C * kvDim * 4, p.length * kvDim);
          k.copyF(A.v + b * Tp * kvDim * 4, vc[l]! + b * C * kvDim * 4, p.length * kvDim);
        });
      }
      prompts.forEach((p, b) => k.copyF(acts.xnF + (b * Tp + p.length - 1) * dim * 4, lastRows + b * dim * 4, dim));
      mm(k, lastRows, net.outT, logits, B, dim, V, false);
    }
    a.release(mark2);
    const pos = a.i32(posP, B);
    const tok = a.i32(tokP, B);
    // Scratch is reused across calls: a row that stops on its first token never writes its slot, and a stale id
    // there would index the embedding out of bounds.
    tok.fill(0);
    const done = prompts.map(() => false);
    prompts.forEach((p, b) => (pos[b] = p.length));
    let active = B;
    for (let step = 0; ; step++) {
      const lv = a.f32(logits, B * V);
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        const t = choose(b, lv.subarray(b * V, (b + 1) * V));
        if (stops.has(t)) {
          done[b] = true;
          active--;
          continue;
        }
        outs[b]!.push(t);
        tok[b] = t;
        if (outs[b]!.length >= maxTokens || pos[b]! >= C) {
          done[b] = true;
          active--;
        }
      }
      if (active === 0) break;
      // Finished rows keep computing on a frozen position (cheaper than compacting the batch).
      for (let b = 0; b < B; b++) if (done[b]) pos[b] = Math.min(pos[b]!, C - 1);
      k.embedFwd(net.emb, V, dim, tokP, B, x);
      for (let l = 0; l < c.nLayers; l++) {
        const L = net.layers[l]!;
        k.rmsnormFwd(x, L.attnNorm, xn, rstd, B, dim, c.normEps);
        mm(k, xn, L.q.w, q, B, dim, dim, false);
        mm(k, xn, L.k.w, kk, B, dim, kvDim, false);
        mm(k, xn, L.v.w, vv, B, dim, kvDim, false);
        k.rope(q, B, c.nHeads, hd, dim, posP, net.rope, 0);
        k.rope(kk, B, c.nKvHeads, hd, kvDim, posP, net.rope, 0);
        k.scatterRows(kk, kc[l]!, posP, B, C, kvDim);
        k.scatterRows(vv, vc[l]!, posP, B, C, kvDim);
        k.attnDecode(q, kc[l]!, vc[l]!, att, posP, tmp, B, C, c.nHeads, c.nKvHeads, hd, 1 / Math.sqrt(hd));
        mm(k, att, L.o.w, x, B, dim, dim, true);
        k.rmsnormFwd(x, L.ffnNorm, xn, rstd, B, dim, c.normEps);
        mm(k, xn, L.gate.w, g, B, dim, hid, false);
        mm(k, xn, L.up.w, u, B, dim, hid, false);
        k.swigluFwd(g, u, h, B * hid);
        mm(k, h, L.down.w, x, B, hid, dim, true);
      }
      k.rmsnormFwd(x, net.outNorm, xn, rstd, B, dim, c.normEps);
      mm(k, xn, net.outT, logits, B, dim, V, false);
      for (let b = 0; b < B; b++) if (!done[b]) pos[b]!++;
    }
  } finally {
    a.release(mark);
  }
}

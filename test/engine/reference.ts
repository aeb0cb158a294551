/**
 * A float64 reference of the Llama forward pass and weighted loss, written independently of the engine
 * (plain loops over GGUF-layout tensors), for gradient checks by central finite differences.
 */
import type { LlamaConfig } from '../../src/engine/types.js';

/** Tensors by GGUF name as float64. */
export type RefTensors = Map<string, Float64Array>;

/** Optional LoRA adapters by projection tensor name: W_eff = W + scale·B·A. */
export type RefLora = Map<string, { a: Float64Array; b: Float64Array; rank: number; scale: number }>;

function linear(x: Float64Array, w: Float64Array, nIn: number, nOut: number, lora?: { a: Float64Array; b: Float64Array; rank: number; scale: number }): Float64Array {
  const y = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let s = 0;
    for (let i = 0; i < nIn; i++) s += w[o * nIn + i]! * x[i]!;
    y[o] = s;
  }
  if (lora) {
    const u = new Float64Array(lora.rank);
    for (let r = 0; r < lora.rank; r++) for (let i = 0; i < nIn; i++) u[r] += lora.a[r * nIn + i]! * x[i]!;
    for (let o = 0; o < nOut; o++) for (let r = 0; r < lora.rank; r++) y[o] += lora.scale * lora.b[o * lora.rank + r]! * u[r]!;
  }
  return y;
}

function rmsnorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]!);
}

function rope(x: Float64Array, nHeads: number, hd: number, pos: number, theta: number): void {
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      const ang = pos * Math.pow(theta, (-2 * i) / hd);
      const c = Math.cos(ang), s = Math.sin(ang);
      const a = x[h * hd + 2 * i]!, b = x[h * hd + 2 * i + 1]!;
      x[h * hd + 2 * i] = a * c - b * s;
      x[h * hd + 2 * i + 1] = a * s + b * c;
    }
  }
}

/** Final normalised hidden state and log-softmax per position of one sequence. */
export function refForward(c: LlamaConfig, t: RefTensors, tokens: readonly number[], lora?: RefLora): { logp: Float64Array[]; hidden: Float64Array[] } {
  const hd = c.dim / c.nHeads, kvDim = hd * c.nKvHeads, group = c.nHeads / c.nKvHeads;
  const g = (n: string) => t.get(n)!;
  const emb = g('token_embd.weight');
  let xs = tokens.map((tok) => emb.slice(tok * c.dim, (tok + 1) * c.dim));
  for (let l = 0; l < c.nLayers; l++) {
    const p = (n: string) => `blk.${l}.${n}.weight`;
    const lin = (x: Float64Array, n: string, nIn: number, nOut: number) => linear(x, g(p(n)), nIn, nOut, lora?.get(p(n)));
    const qs: Float64Array[] = [], ks: Float64Array[] = [], vs: Float64Array[] = [];
    xs.forEach((x, pos) => {
      const xn = rmsnorm(x, g(p('attn_norm')), c.normEps);
      const q = lin(xn, 'attn_q', c.dim, c.dim), k = lin(xn, 'attn_k', c.dim, kvDim);
      rope(q, c.nHeads, hd, pos, c.ropeTheta);
      rope(k, c.nKvHeads, hd, pos, c.ropeTheta);
      qs.push(q); ks.push(k); vs.push(lin(xn, 'attn_v', c.dim, kvDim));
    });
    xs = xs.map((x, pos) => {
      const att = new Float64Array(c.dim);
      for (let h = 0; h < c.nHeads; h++) {
        const kv = Math.floor(h / group) * hd;
        const sc: number[] = [];
        for (let j = 0; j <= pos; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qs[pos]![h * hd + d]! * ks[j]![kv + d]!;
          sc.push(s / Math.sqrt(hd));
        }
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= pos; j++) for (let d = 0; d < hd; d++) att[h * hd + d] += (e[j]! / z) * vs[j]![kv + d]!;
      }
      const o = lin(att, 'attn_output', c.dim, c.dim);
      const mid = x.map((v, i) => v + o[i]!);
      const xn = rmsnorm(mid, g(p('ffn_norm')), c.normEps);
      const gate = lin(xn, 'ffn_gate', c.dim, c.hiddenDim), up = lin(xn, 'ffn_up', c.dim, c.hiddenDim);
      const h = gate.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]!);
      const down = lin(h, 'ffn_down', c.hiddenDim, c.dim);
      return mid.map((v, i) => v + down[i]!);
    });
  }
  const out = g(c.tiedEmbeddings ? 'token_embd.weight' : 'output.weight');
  const hidden = xs.map((x) => rmsnorm(x, g('output_norm.weight'), c.normEps));
  const logp = hidden.map((h) => {
    const l = linear(h, out, c.dim, c.vocabSize);
    const mx = Math.max(...l);
    const z = Math.log(l.reduce((a, v) => a + Math.exp(v - mx), 0)) + mx;
    return l.map((v) => v - z);
  });
  return { logp, hidden };
}

/** Σ w·nll / Σ|w| over examples (the engine's training loss). */
export function refLoss(c: LlamaConfig, t: RefTensors, examples: { tokens: number[]; lossWeights: number[] }[], lora?: RefLora): number {
  let sum = 0, norm = 0;
  for (const ex of examples) {
    const { logp } = refForward(c, t, ex.tokens, lora);
    ex.lossWeights.forEach((w, i) => {
      sum -= w * logp[i]![ex.tokens[i + 1]!]!;
      norm += Math.abs(w);
    });
  }
  return sum / norm;
}

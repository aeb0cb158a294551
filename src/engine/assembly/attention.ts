// Causal grouped-query attention, forward (keeping the probabilities) and backward, plus the one-query decode
// step over a KV cache. Q rows are [N][nH·hd], K/V rows [N][nKv·hd]; query head h reads kv head h/(nH/nKv)
// (llama.cpp and llama2.c convention). Scores are computed with f32 SIMD dot products in key order.

import { dot, axpy } from './ops';

// @ts-ignore: decorator
@inline function softmaxInPlace(p: usize, n: i32): void {
  let mx = load<f32>(p);
  for (let j = 1; j < n; j++) mx = max(mx, load<f32>(p + (<usize>j << 2)));
  let sum: f32 = 0;
  for (let j = 0; j < n; j++) {
    const q = p + (<usize>j << 2);
    const e = Mathf.exp(load<f32>(q) - mx);
    store<f32>(q, e);
    sum += e;
  }
  const inv: f32 = 1.0 / sum;
  for (let j = 0; j < n; j++) {
    const q = p + (<usize>j << 2);
    store<f32>(q, load<f32>(q) * inv);
  }
}

/**
 * Forward over B sequences of T rows: o[t] = Σ_{j≤t} softmax_j(q_t·k_j·scale)·v_j per head. probs receives
 * the probabilities as [B][nH][T][T] (only j ≤ t is written) for the backward pass.
 */
export function attnFwd(q: usize, k: usize, v: usize, o: usize, probs: usize, B: i32, T: i32, nH: i32, nKv: i32, hd: i32, scale: f32): void {
  const dim = nH * hd, kvDim = nKv * hd, group = nH / nKv;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nH; h++) {
      const kvo = (h / group) * hd;
      for (let t = 0; t < T; t++) {
        const row = b * T + t;
        const qr = q + ((<usize>row * <usize>dim + <usize>(h * hd)) << 2);
        const pr = probs + ((((<usize>b * <usize>nH + <usize>h) * <usize>T + <usize>t) * <usize>T) << 2);
        for (let j = 0; j <= t; j++) {
          const kr = k + ((<usize>(b * T + j) * <usize>kvDim + <usize>kvo) << 2);
          store<f32>(pr + (<usize>j << 2), dot(qr, kr, hd) * scale);
        }
        softmaxInPlace(pr, t + 1);
        const orow = o + ((<usize>row * <usize>dim + <usize>(h * hd)) << 2);
        memory.fill(orow, 0, <usize>hd << 2);
        for (let j = 0; j <= t; j++) {
          const vr = v + ((<usize>(b * T + j) * <usize>kvDim + <usize>kvo) << 2);
          axpy(orow, vr, load<f32>(pr + (<usize>j << 2)), hd);
        }
      }
    }
  }
}

/**
 * Backward of attnFwd: dq, dk, dv are overwritten. With dP_j = do·v_j and dS_j = P_j(dP_j − Σ P·dP):
 * dq_t = scale·Σ dS_j k_j, dk_j += scale·dS_j q_t, dv_j += P_j do_t. tmp holds T floats of scratch.
 */
export function attnBwd(q: usize, k: usize, v: usize, probs: usize, dout: usize, dq: usize, dk: usize, dv: usize, tmp: usize, B: i32, T: i32, nH: i32, nKv: i32, hd: i32, scale: f32): void {
  const dim = nH * hd, kvDim = nKv * hd, group = nH / nKv;
  memory.fill(dq, 0, (<usize>(B * T) * <usize>dim) << 2);
  memory.fill(dk, 0, (<usize>(B * T) * <usize>kvDim) << 2);
  memory.fill(dv, 0, (<usize>(B * T) * <usize>kvDim) << 2);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nH; h++) {
      const kvo = (h / group) * hd;
      for (let t = 0; t < T; t++) {
        const row = b * T + t;
        const qoff = (<usize>row * <usize>dim + <usize>(h * hd)) << 2;
        const dor = dout + qoff;
        const pr = probs + ((((<usize>b * <usize>nH + <usize>h) * <usize>T + <usize>t) * <usize>T) << 2);
        let s: f32 = 0;
        for (let j = 0; j <= t; j++) {
          const voff = (<usize>(b * T + j) * <usize>kvDim + <usize>kvo) << 2;
          const dp = dot(dor, v + voff, hd);
          store<f32>(tmp + (<usize>j << 2), dp);
          const p = load<f32>(pr + (<usize>j << 2));
          s += p * dp;
          axpy(dv + voff, dor, p, hd);
        }
        const qr = q + qoff;
        const dqr = dq + qoff;
        for (let j = 0; j <= t; j++) {
          const p = load<f32>(pr + (<usize>j << 2));
          const ds: f32 = p * (load<f32>(tmp + (<usize>j << 2)) - s) * scale;
          const koff = (<usize>(b * T + j) * <usize>kvDim + <usize>kvo) << 2;
          axpy(dqr, k + koff, ds, hd);
          axpy(dk + koff, qr, ds, hd);
        }
      }
    }
  }
}

/**
 * One decode step for B sequences: query row b (one token at position pos[b]) attends to rows 0..pos[b] of
 * its own cache slab; caches are [B][C][nKv·hd]. tmp holds C floats of scratch.
 */
export function attnDecode(q: usize, kc: usize, vc: usize, o: usize, pos: usize, tmp: usize, B: i32, C: i32, nH: i32, nKv: i32, hd: i32, scale: f32): void {
  const dim = nH * hd, kvDim = nKv * hd, group = nH / nKv;
  for (let b = 0; b < B; b++) {
    const n = load<i32>(pos + (<usize>b << 2)) + 1;
    const base = <usize>b * <usize>C * <usize>kvDim;
    for (let h = 0; h < nH; h++) {
      const kvo = (h / group) * hd;
      const qr = q + ((<usize>b * <usize>dim + <usize>(h * hd)) << 2);
      for (let j = 0; j < n; j++) {
        store<f32>(tmp + (<usize>j << 2), dot(qr, kc + ((base + <usize>j * <usize>kvDim + <usize>kvo) << 2), hd) * scale);
      }
      softmaxInPlace(tmp, n);
      const orow = o + ((<usize>b * <usize>dim + <usize>(h * hd)) << 2);
      memory.fill(orow, 0, <usize>hd << 2);
      for (let j = 0; j < n; j++) {
        axpy(orow, vc + ((base + <usize>j * <usize>kvDim + <usize>kvo) << 2), load<f32>(tmp + (<usize>j << 2)), hd);
      }
    }
  }
}

/** Copies row b of src [B][width] to row pos[b] of slab b of dst [B][C][width] (KV-cache append). */
export function scatterRows(src: usize, dst: usize, pos: usize, B: i32, C: i32, width: i32): void {
  for (let b = 0; b < B; b++) {
    const p = <usize>load<i32>(pos + (<usize>b << 2));
    memory.copy(dst + (((<usize>b * <usize>C + p) * <usize>width) << 2), src + ((<usize>b * <usize>width) << 2), <usize>width << 2);
  }
}

// Causal grouped-query attention, forward (keeping the probabilities) and backward, plus the one-query decode
// step over a KV cache. Q rows are [N][nH·hd], K/V rows [N][nKv·hd]; query head h reads kv head h/(nH/nKv)
// (llama.cpp and llama2.c convention). The training/prefill forward and the backward run every product
// (Q·Kᵀ, P·V, dO·Vᵀ, dS·K, dSᵀ·Q, Pᵀ·dO) through the tiled GEMM; the decode step uses the helpers below. Head sizes that are a multiple of 4 take the SIMD paths: scores four
// keys at a time, and weighted sums of value rows accumulated in registers 8 floats at a time; other head
// sizes use the scalar-tailed helpers. Every sum runs in a fixed order.

import { dot, axpy, expShiftSum, maxOf, scale as scaleRow } from './ops';
import { hsum4, madd } from './simd';
import { gemm } from './gemm';

/** s[j] = (q·k_j)·scale for j < n, with keys at kBase + j·kStride (bytes). */
// @ts-ignore: decorator
@inline function scores(q: usize, kBase: usize, kStride: usize, n: i32, hd: i32, sc: f32, s: usize): void {
  let j = 0;
  if ((hd & 3) == 0) {
    const scv = f32x4.splat(sc);
    for (; j + 4 <= n; j += 4) {
      const k0 = kBase + <usize>j * kStride;
      const k1 = k0 + kStride, k2 = k1 + kStride, k3 = k2 + kStride;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let d = 0; d < hd; d += 4) {
        const o = <usize>d << 2;
        const qv = v128.load(q + o);
        a0 = madd(qv, v128.load(k0 + o), a0);
        a1 = madd(qv, v128.load(k1 + o), a1);
        a2 = madd(qv, v128.load(k2 + o), a2);
        a3 = madd(qv, v128.load(k3 + o), a3);
      }
      v128.store(s + (<usize>j << 2), f32x4.mul(hsum4(a0, a1, a2, a3), scv));
    }
  }
  for (; j < n; j++) store<f32>(s + (<usize>j << 2), dot(q, kBase + <usize>j * kStride, hd) * sc);
}

/** out[0..hd) = Σ_{j<n} p[j]·v_j (acc ≠ 0: out +=), value rows at vBase + j·vStride (bytes). */
// @ts-ignore: decorator
@inline function weighted(p: usize, pStride: usize, vBase: usize, vStride: usize, n: i32, hd: i32, out: usize, acc: bool): void {
  if ((hd & 3) != 0) {
    if (!acc) memory.fill(out, 0, <usize>hd << 2);
    for (let j = 0; j < n; j++) axpy(out, vBase + <usize>j * vStride, load<f32>(p + <usize>j * pStride), hd);
    return;
  }
  let d = 0;
  for (; d + 8 <= hd; d += 8) {
    const o = <usize>d << 2;
    // Four partial sums (keys j ≡ 0, 1, 2, 3 mod 4) break the add-latency chain of a single accumulator;
    // they are combined as (s0 + s1) + (s2 + s3), a fixed order whatever the thread.
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    let e0 = f32x4.splat(0), e1 = f32x4.splat(0);
    let vp = vBase + o;
    let pp = p;
    const v2 = vStride * 2, v3 = vStride * 3, p2 = pStride * 2, p3 = pStride * 3;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const w0 = v128.load32_splat(pp), w1 = v128.load32_splat(pp + pStride);
      const w2 = v128.load32_splat(pp + p2), w3 = v128.load32_splat(pp + p3);
      a0 = madd(w0, v128.load(vp), a0);
      a1 = madd(w0, v128.load(vp, 16), a1);
      b0 = madd(w1, v128.load(vp + vStride), b0);
      b1 = madd(w1, v128.load(vp + vStride, 16), b1);
      c0 = madd(w2, v128.load(vp + v2), c0);
      c1 = madd(w2, v128.load(vp + v2, 16), c1);
      e0 = madd(w3, v128.load(vp + v3), e0);
      e1 = madd(w3, v128.load(vp + v3, 16), e1);
      vp += vStride << 2;
      pp += pStride << 2;
    }
    for (; j < n; j++) {
      const w = v128.load32_splat(pp);
      a0 = madd(w, v128.load(vp), a0);
      a1 = madd(w, v128.load(vp, 16), a1);
      vp += vStride;
      pp += pStride;
    }
    a0 = f32x4.add(f32x4.add(a0, b0), f32x4.add(c0, e0));
    a1 = f32x4.add(f32x4.add(a1, b1), f32x4.add(c1, e1));
    if (acc) {
      a0 = f32x4.add(a0, v128.load(out + o));
      a1 = f32x4.add(a1, v128.load(out + o, 16));
    }
    v128.store(out + o, a0);
    v128.store(out + o, a1, 16);
  }
  if (d < hd) {
    const o = <usize>d << 2;
    let a0 = f32x4.splat(0);
    let vp = vBase + o;
    let pp = p;
    for (let j = 0; j < n; j++) {
      a0 = madd(f32x4.splat(load<f32>(pp)), v128.load(vp), a0);
      vp += vStride;
      pp += pStride;
    }
    if (acc) a0 = f32x4.add(a0, v128.load(out + o));
    v128.store(out + o, a0);
  }
}

// @ts-ignore: decorator
@inline function softmaxInPlace(p: usize, n: i32): void {
  const sum = expShiftSum(p, n, maxOf(p, n));
  scaleRow(p, n, 1.0 / sum);
}

/** Rows of a query block in attnFwd/attnBwd: scores of a block only span the keys up to its last row. */
const QB: i32 = 16;

/**
 * Forward over B sequences of T rows: o[t] = Σ_{j≤t} softmax_j(q_t·k_j·scale)·v_j per head. probs receives
 * the probabilities as [B][nH][T][T] with zeros above the diagonal (the backward pass relies on them). kt is
 * hd·T floats of scratch for one head's transposed keys. Scores (Q·Kᵀ) and outputs (P·V) go through the
 * register-tiled GEMM a block of QB query rows at a time; the zeros make P·V's sum over keys j ≤ t exact
 * (adding 0·v changes nothing) and in increasing j, as before.
 */
export function attnFwd(q: usize, k: usize, v: usize, o: usize, probs: usize, kt: usize, B: i32, T: i32, nH: i32, nKv: i32, hd: i32, scale: f32): void {
  const dim = nH * hd, kvDim = nKv * hd, group = nH / nKv;
  const kvStride = <usize>kvDim << 2, rowT = <usize>T << 2;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nH; h++) {
      const kvo = <usize>((h / group) * hd) << 2;
      const kBase = k + <usize>(b * T) * kvStride + kvo;
      const vBase = v + <usize>(b * T) * kvStride + kvo;
      if (h % group == 0) {
        for (let j = 0; j < T; j++) {
          for (let d = 0; d < hd; d++) store<f32>(kt + ((<usize>d * <usize>T + <usize>j) << 2), load<f32>(kBase + <usize>j * kvStride + (<usize>d << 2)));
        }
      }
      const pBase = probs + (((<usize>b * <usize>nH + <usize>h) * <usize>T * <usize>T) << 2);
      const qBase = q + ((<usize>(b * T) * <usize>dim + <usize>(h * hd)) << 2);
      const oBase = o + ((<usize>(b * T) * <usize>dim + <usize>(h * hd)) << 2);
      for (let t0 = 0; t0 < T; t0 += QB) {
        const t1 = min(T, t0 + QB);
        const P = t1;
        const pr0 = pBase + <usize>t0 * rowT;
        gemm(qBase + <usize>t0 * (<usize>dim << 2), dim, 1, kt, T, pr0, T, t1 - t0, hd, P, 0);
        for (let t = t0; t < t1; t++) {
          const pr = pBase + <usize>t * rowT;
          const n = t + 1;
          scaleRow(pr, n, scale);
          softmaxInPlace(pr, n);
          memory.fill(pr + (<usize>n << 2), 0, <usize>(T - n) << 2);
        }
        gemm(pr0, T, 1, vBase, kvDim, oBase + <usize>t0 * (<usize>dim << 2), dim, t1 - t0, P, hd, 0);
      }
    }
  }
}

/**
 * Backward of attnFwd: dq, dk, dv are overwritten. With dP_tj = do_t·v_j and dS_tj = P_tj(dP_tj − Σ_j P·dP)·scale:
 * dq = dS·K, dk = dSᵀ·Q and dv = Pᵀ·dO by GEMM. probs must come from attnFwd (zeros above the diagonal);
 * tmp holds T·T floats of dS, vt hd·T floats for one head's transposed values.
 */
export function attnBwd(q: usize, k: usize, v: usize, probs: usize, dout: usize, dq: usize, dk: usize, dv: usize, tmp: usize, vt: usize, B: i32, T: i32, nH: i32, nKv: i32, hd: i32, scale: f32): void {
  const dim = nH * hd, kvDim = nKv * hd, group = nH / nKv;
  const kvStride = <usize>kvDim << 2, qStride = <usize>dim << 2, rowT = <usize>T << 2;
  memory.fill(dk, 0, (<usize>(B * T) * <usize>kvDim) << 2);
  memory.fill(dv, 0, (<usize>(B * T) * <usize>kvDim) << 2);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nH; h++) {
      const kvo = <usize>((h / group) * hd) << 2;
      const qo = <usize>(h * hd) << 2;
      const kBase = k + <usize>(b * T) * kvStride + kvo;
      const vBase = v + <usize>(b * T) * kvStride + kvo;
      const pBase = probs + (((<usize>b * <usize>nH + <usize>h) * <usize>T * <usize>T) << 2);
      const qBase = q + <usize>(b * T) * qStride + qo;
      const doBase = dout + <usize>(b * T) * qStride + qo;
      if (h % group == 0) {
        for (let j = 0; j < T; j++) {
          for (let d = 0; d < hd; d++) store<f32>(vt + ((<usize>d * <usize>T + <usize>j) << 2), load<f32>(vBase + <usize>j * kvStride + (<usize>d << 2)));
        }
      }
      for (let t = 0; t < T; t++) {
        const pr = pBase + <usize>t * rowT;
        const dsr = tmp + <usize>t * rowT;
        const n = t + 1;
        // dP = dO·Vᵀ for the next QB rows (keys up to the block's last row).
        if (t % QB == 0) gemm(doBase + <usize>t * qStride, dim, 1, vt, T, dsr, T, min(QB, T - t), hd, min(T, t + QB), 0);
        // s = Σ P·dP, then dS = P(dP − s)·scale, vectorised over keys.
        let sv = f32x4.splat(0);
        let j = 0;
        for (; j + 4 <= n; j += 4) sv = madd(v128.load(pr + (<usize>j << 2)), v128.load(dsr + (<usize>j << 2)), sv);
        let s = f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1) + f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3);
        for (; j < n; j++) s += load<f32>(pr + (<usize>j << 2)) * load<f32>(dsr + (<usize>j << 2));
        const svv = f32x4.splat(s), scv = f32x4.splat(scale);
        j = 0;
        for (; j + 4 <= n; j += 4) {
          const o = <usize>j << 2;
          v128.store(dsr + o, f32x4.mul(f32x4.mul(v128.load(pr + o), f32x4.sub(v128.load(dsr + o), svv)), scv));
        }
        for (; j < n; j++) {
          const o = <usize>j << 2;
          store<f32>(dsr + o, load<f32>(pr + o) * (load<f32>(dsr + o) - s) * scale);
        }
        // Zeros above the diagonal let the GEMMs below sum over whole blocks (adding 0·x changes nothing).
        for (let jz = n; jz < T; jz++) store<f32>(dsr + (<usize>jz << 2), 0);
      }
      // dq = dS·K, dk += dSᵀ·Q and dv += Pᵀ·dO through the tiled GEMM, QB rows at a time: a block of query rows
      // only needs keys up to its last row, a block of key rows only queries from its first row on.
      const dqBase = dq + <usize>(b * T) * qStride + qo;
      const dkBase = dk + <usize>(b * T) * kvStride + kvo;
      const dvBase = dv + <usize>(b * T) * kvStride + kvo;
      for (let t0 = 0; t0 < T; t0 += QB) {
        const rows = min(T, t0 + QB) - t0;
        gemm(tmp + <usize>t0 * rowT, T, 1, kBase, kvDim, dqBase + <usize>t0 * qStride, dim, rows, t0 + rows, hd, 0);
        const col = (<usize>t0 * rowT) + (<usize>t0 << 2);
        gemm(tmp + col, 1, T, qBase + <usize>t0 * qStride, dim, dkBase + <usize>t0 * kvStride, kvDim, rows, T - t0, hd, 1);
        gemm(pBase + col, 1, T, doBase + <usize>t0 * qStride, dim, dvBase + <usize>t0 * kvStride, kvDim, rows, T - t0, hd, 1);
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
  const kvStride = <usize>kvDim << 2;
  for (let b = 0; b < B; b++) {
    const n = load<i32>(pos + (<usize>b << 2)) + 1;
    const base = (<usize>b * <usize>C) * kvStride;
    for (let h = 0; h < nH; h++) {
      const kvo = <usize>((h / group) * hd) << 2;
      const qoff = (<usize>b * <usize>dim + <usize>(h * hd)) << 2;
      scores(q + qoff, kc + base + kvo, kvStride, n, hd, scale, tmp);
      softmaxInPlace(tmp, n);
      weighted(tmp, 4, vc + base + kvo, kvStride, n, hd, o + qoff, false);
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

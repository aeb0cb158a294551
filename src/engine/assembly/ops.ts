// Element-wise and row-wise kernels of the Llama block (RMSNorm, RoPE, SwiGLU, embedding, cross-entropy,
// AdamW) with their backward passes. Pointers are byte addresses into the imported memory, sizes are in
// elements. Every reduction runs in a fixed order so results are bit-reproducible.

import { expv, exps, hsum } from './simd';

// @ts-ignore: decorator
@inline function f4(p: usize): v128 { return v128.load(p); }

/** out[n][d] = Et[d][tok[n]]: the embedding table is kept transposed ([dim][vocab]) to serve tied outputs. */
export function embedFwd(et: usize, vocab: i32, dim: i32, tok: usize, N: i32, out: usize): void {
  for (let n = 0; n < N; n++) {
    const t = <usize>load<i32>(tok + (<usize>n << 2));
    const o = out + ((<usize>n * <usize>dim) << 2);
    for (let d = 0; d < dim; d++) store<f32>(o + (<usize>d << 2), load<f32>(et + ((<usize>d * <usize>vocab + t) << 2)));
  }
}

/** dEt[d][tok[n]] += dx[n][d], rows in increasing n. */
export function embedBwd(det: usize, vocab: i32, dim: i32, tok: usize, N: i32, dx: usize): void {
  for (let n = 0; n < N; n++) {
    const t = <usize>load<i32>(tok + (<usize>n << 2));
    const g = dx + ((<usize>n * <usize>dim) << 2);
    for (let d = 0; d < dim; d++) {
      const p = det + ((<usize>d * <usize>vocab + t) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(g + (<usize>d << 2)));
    }
  }
}


/** Σ a[i]·b[i] over n floats: four SIMD lanes, then the scalar tail. */
export function dot(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, f32x4.mul(f4(a + (<usize>i << 2)), f4(b + (<usize>i << 2))));
  let s = hsum(acc);
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** y[i] += s·x[i] over n floats. */
export function axpy(y: usize, x: usize, s: f32, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const py = y + (<usize>i << 2);
    v128.store(py, f32x4.add(f4(py), f32x4.mul(sv, f4(x + (<usize>i << 2)))));
  }
  for (; i < n; i++) {
    const py = y + (<usize>i << 2);
    store<f32>(py, load<f32>(py) + s * load<f32>(x + (<usize>i << 2)));
  }
}

/** dst[i] += src[i]. */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = dst + (<usize>i << 2);
    v128.store(p, f32x4.add(f4(p), f4(src + (<usize>i << 2))));
  }
  for (; i < n; i++) {
    const p = dst + (<usize>i << 2);
    store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>i << 2)));
  }
}

/** x[i] *= s. */
export function scale(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.mul(f4(p), sv));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, load<f32>(p) * s);
  }
}

/** Σ x[i]² in double precision, in index order. */
export function sumsq(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

/** out = x·rstd·w per row of width D; rstd[n] = 1/sqrt(mean(x²)+eps) is kept for the backward pass. */
export function rmsnormFwd(x: usize, w: usize, out: usize, rstd: usize, N: i32, D: i32, eps: f32): void {
  for (let n = 0; n < N; n++) {
    const xr = x + ((<usize>n * <usize>D) << 2);
    const orow = out + ((<usize>n * <usize>D) << 2);
    const r: f32 = 1.0 / Mathf.sqrt(dot(xr, xr, D) / <f32>D + eps);
    store<f32>(rstd + (<usize>n << 2), r);
    const rv = f32x4.splat(r);
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const o = <usize>d << 2;
      v128.store(orow + o, f32x4.mul(f32x4.mul(f4(xr + o), rv), f4(w + o)));
    }
    for (; d < D; d++) {
      const o = <usize>d << 2;
      store<f32>(orow + o, load<f32>(xr + o) * r * load<f32>(w + o));
    }
  }
}

/**
 * Backward of y = x·r·w: dx += r·(w⊙dy) − x·r³/D·Σ(w⊙dy⊙x); dw += Σn dy⊙x·r.
 * dx accumulates because it is the residual stream's gradient.
 */
export function rmsnormBwd(x: usize, w: usize, rstd: usize, dy: usize, dx: usize, dw: usize, N: i32, D: i32): void {
  for (let n = 0; n < N; n++) {
    const off = (<usize>n * <usize>D) << 2;
    const xr = x + off, dyr = dy + off, dxr = dx + off;
    const r = load<f32>(rstd + (<usize>n << 2));
    let s: f32 = 0;
    for (let d = 0; d < D; d++) {
      const o = <usize>d << 2;
      s += load<f32>(w + o) * load<f32>(dyr + o) * load<f32>(xr + o);
    }
    const c: f32 = s * r * r * r / <f32>D;
    for (let d = 0; d < D; d++) {
      const o = <usize>d << 2;
      const g = load<f32>(dyr + o);
      const xv = load<f32>(xr + o);
      store<f32>(dxr + o, load<f32>(dxr + o) + r * load<f32>(w + o) * g - xv * c);
      if (dw) store<f32>(dw + o, load<f32>(dw + o) + g * xv * r);
    }
  }
}

/**
 * Rotates adjacent pairs (x[2i], x[2i+1]) of every head of every row by pos[n]·θ^(−2i/hd) (llama.cpp "normal"
 * rope). cs holds cos/sin interleaved per [position][pair]. inverse ≠ 0 rotates backwards (the gradient).
 */
export function rope(x: usize, N: i32, nHeads: i32, hd: i32, stride: i32, pos: usize, cs: usize, inverse: i32): void {
  const half = hd >> 1;
  const sign: f32 = inverse ? -1 : 1;
  for (let n = 0; n < N; n++) {
    const p = <usize>load<i32>(pos + (<usize>n << 2));
    const tab = cs + ((p * <usize>half * 2) << 2);
    const row = x + ((<usize>n * <usize>stride) << 2);
    for (let h = 0; h < nHeads; h++) {
      const hb = row + ((<usize>h * <usize>hd) << 2);
      for (let i = 0; i < half; i++) {
        const c = load<f32>(tab + (<usize>i << 3));
        const s = sign * load<f32>(tab + (<usize>i << 3) + 4);
        const pa = hb + (<usize>i << 3);
        const a = load<f32>(pa), b = load<f32>(pa + 4);
        store<f32>(pa, a * c - b * s);
        store<f32>(pa + 4, a * s + b * c);
      }
    }
  }
}

/** h = silu(g)⊙u over n elements (σ through the vector exp). */
export function swigluFwd(g: usize, u: usize, h: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = f4(g + o);
    const sg = f32x4.div(one, f32x4.add(one, expv(f32x4.neg(gv))));
    v128.store(h + o, f32x4.mul(f32x4.mul(gv, sg), f4(u + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const sg: f32 = 1.0 / (1.0 + exps(-gv));
    store<f32>(h + o, gv * sg * load<f32>(u + o));
  }
}

/** dg = dh⊙u⊙silu'(g), du = dh⊙silu(g), with silu'(g) = σ(g)(1 + g(1 − σ(g))). */
export function swigluBwd(g: usize, u: usize, dh: usize, dg: usize, du: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = f4(g + o);
    const sg = f32x4.div(one, f32x4.add(one, expv(f32x4.neg(gv))));
    const d = f4(dh + o);
    v128.store(du + o, f32x4.mul(f32x4.mul(d, gv), sg));
    v128.store(dg + o, f32x4.mul(f32x4.mul(f32x4.mul(d, f4(u + o)), sg), f32x4.add(one, f32x4.mul(gv, f32x4.sub(one, sg)))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const sg: f32 = 1.0 / (1.0 + exps(-gv));
    const d = load<f32>(dh + o);
    store<f32>(du + o, d * gv * sg);
    store<f32>(dg + o, d * load<f32>(u + o) * sg * (1.0 + gv * (1.0 - sg)));
  }
}

/**
 * In-place exp(x − mx) over n floats; returns their sum (four lane sums, then the tail, in a fixed order).
 */
export function expShiftSum(p: usize, n: i32, mx: f32): f32 {
  const m = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const q = p + (<usize>j << 2);
    const e = expv(f32x4.sub(v128.load(q), m));
    v128.store(q, e);
    acc = f32x4.add(acc, e);
  }
  let sum = hsum(acc);
  for (; j < n; j++) {
    const q = p + (<usize>j << 2);
    const e = exps(load<f32>(q) - mx);
    store<f32>(q, e);
    sum += e;
  }
  return sum;
}

/** Largest of n floats. */
export function maxOf(p: usize, n: i32): f32 {
  let j = 0;
  let mv = f32x4.splat(-Infinity);
  for (; j + 4 <= n; j += 4) mv = f32x4.max(mv, v128.load(p + (<usize>j << 2)));
  let mx = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < n; j++) mx = max(mx, load<f32>(p + (<usize>j << 2)));
  return mx;
}

/**
 * Weighted cross-entropy over rows of logits [N][V]: returns Σ w·(−ln p(target)) and overwrites the logits
 * with their gradient w/norm·(softmax − onehot). Rows with weight 0 get a zero gradient and cost no exp.
 */
export function xentFwdBwd(logits: usize, tgt: usize, wts: usize, N: i32, V: i32, invNorm: f32): f64 {
  let loss: f64 = 0;
  for (let n = 0; n < N; n++) {
    const row = logits + ((<usize>n * <usize>V) << 2);
    const w = load<f32>(wts + (<usize>n << 2));
    if (w == 0) {
      memory.fill(row, 0, <usize>V << 2);
      continue;
    }
    const sum = expShiftSum(row, V, maxOf(row, V));
    const t = <usize>load<i32>(tgt + (<usize>n << 2));
    const pt = load<f32>(row + (t << 2)) / sum;
    loss += <f64>w * -Math.log(<f64>pt);
    scale(row, V, (w * invNorm) / sum);
    const ptp = row + (t << 2);
    store<f32>(ptp, load<f32>(ptp) - w * invNorm);
  }
  return loss;
}

/** out[n] = ln softmax(logits[n])[tgt[n]] in double precision (exact scoring, not the training path). */
export function logprobAt(logits: usize, tgt: usize, N: i32, V: i32, out: usize): void {
  for (let n = 0; n < N; n++) {
    const row = logits + ((<usize>n * <usize>V) << 2);
    let mx: f64 = load<f32>(row);
    for (let j = 1; j < V; j++) mx = Math.max(mx, <f64>load<f32>(row + (<usize>j << 2)));
    let sum: f64 = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(<f64>load<f32>(row + (<usize>j << 2)) - mx);
    const t = <usize>load<i32>(tgt + (<usize>n << 2));
    store<f64>(out + (<usize>n << 3), <f64>load<f32>(row + (t << 2)) - mx - Math.log(sum));
  }
}

/** Index of the largest logit of each row (first one on ties). */
export function argmaxRows(logits: usize, N: i32, V: i32, out: usize): void {
  for (let n = 0; n < N; n++) {
    const row = logits + ((<usize>n * <usize>V) << 2);
    let best = 0;
    let bv = load<f32>(row);
    for (let j = 1; j < V; j++) {
      const v = load<f32>(row + (<usize>j << 2));
      if (v > bv) { bv = v; best = j; }
    }
    store<i32>(out + (<usize>n << 2), best);
  }
}

/**
 * AdamW with bias correction: m ← β1m + (1−β1)g, v ← β2v + (1−β2)g², p ← p − lr·(m̂/(√v̂+ε) + wd·p).
 * bc1 = 1−β1^t and bc2 = 1−β2^t come from the caller.
 */
export function adamw(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, b2: f32, eps: f32, wd: f32, bc1: f32, bc2: f32): void {
  const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(1 - b1);
  const vb2 = f32x4.splat(b2), vb2c = f32x4.splat(1 - b2);
  const ib1 = f32x4.splat(1 / bc1), ib2 = f32x4.splat(1 / bc2);
  const veps = f32x4.splat(eps), vlr = f32x4.splat(lr), vwd = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = f4(g + o);
    const mv = f32x4.add(f32x4.mul(vb1, f4(m + o)), f32x4.mul(vb1c, gv));
    const vv = f32x4.add(f32x4.mul(vb2, f4(v + o)), f32x4.mul(vb2c, f32x4.mul(gv, gv)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const pv = f4(p + o);
    const upd = f32x4.add(f32x4.div(f32x4.mul(mv, ib1), f32x4.add(f32x4.sqrt(f32x4.mul(vv, ib2)), veps)), f32x4.mul(vwd, pv));
    v128.store(p + o, f32x4.sub(pv, f32x4.mul(vlr, upd)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const mv = b1 * load<f32>(m + o) + (1 - b1) * gv;
    const vv = b2 * load<f32>(v + o) + (1 - b2) * gv * gv;
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    const pv = load<f32>(p + o);
    store<f32>(p + o, pv - lr * ((mv * (1 / bc1)) / (Mathf.sqrt(vv * (1 / bc2)) + eps) + wd * pv));
  }
}

/** dst[0..n) = src[0..n) (floats). */
export function copyF(src: usize, dst: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

/** x[0..n) = 0. */
export function zeroF(x: usize, n: i32): void {
  memory.fill(x, 0, <usize>n << 2);
}

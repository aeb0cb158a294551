// GEMM for the engine: C[M,P] (+)= Σk A(m,k)·B[k,P], with a strided A (so one kernel serves X·Wᵀ with a
// transposed weight copy, dY·W and the accumulated weight gradient Xᵀ·dY) and a row-major B and C.
// Large products (M ≥ 32) pack their operands and run a 3×12 register tile in the fma build (9 f32x4
// accumulators, see tile3x12p) and 4×8 in the portable build; small ones (a decode step) run 4×8 tiles straight from the strided operands, where every B load
// serves 4 rows and every A broadcast 8 columns.
// Every element's sum runs over k in increasing order, whatever the tile, so results never depend on tiling.

import { madd } from './simd';

// @ts-ignore: decorator
@inline function splatA(a: usize, off: usize): v128 {
  return v128.load32_splat(a + off);
}

/** Writes a 4×8 tile's accumulators to C (adding C's old values first when `acc`). */
// @ts-ignore: decorator
@inline function store4x8(c: usize, ldc: usize, acc: bool, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc)); c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + ldc * 2)); c21 = f32x4.add(c21, v128.load(c + ldc * 2, 16));
    c30 = f32x4.add(c30, v128.load(c + ldc * 3)); c31 = f32x4.add(c31, v128.load(c + ldc * 3, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + ldc * 2, c20); v128.store(c + ldc * 2, c21, 16);
  v128.store(c + ldc * 3, c30); v128.store(c + ldc * 3, c31, 16);
}

function tile4x8(a: usize, rsA: usize, csA: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  const r1 = rsA, r2 = rsA * 2, r3 = rsA * 3;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let s = splatA(pa, 0);
    c00 = madd(s, b0, c00);
    c01 = madd(s, b1, c01);
    s = splatA(pa, r1);
    c10 = madd(s, b0, c10);
    c11 = madd(s, b1, c11);
    s = splatA(pa, r2);
    c20 = madd(s, b0, c20);
    c21 = madd(s, b1, c21);
    s = splatA(pa, r3);
    c30 = madd(s, b0, c30);
    c31 = madd(s, b1, c31);
    pa += csA;
    pb += ldb;
  }
  store4x8(c, ldc, acc, c00, c01, c10, c11, c20, c21, c30, c31);
}

/**
 * The packed tile of the fma build: 3 rows × 12 columns, A pre-broadcast (3 vectors per k), B 12 floats per k.
 * 9 accumulators and 6 loaded vectors fill the 15 vector registers V8 allocates (it keeps xmm15 as scratch and
 * issues every load of an iteration before its multiply-adds): 9 multiply-adds per 6 loads, and 9 independent
 * chains, one more than the FMA units' 2 per cycle × 4 cycles of latency need. 4×8 (8 chains, 6 loads) ran
 * about 10% slower; 5×8 and 4×12 spill accumulators to the stack. The portable build's multiply-add is a
 * multiply then an add, which needs a 16th register here, so that build keeps 4×8 (tile4x8p). Plain vector
 * loads with constant offsets fold into the load instructions; V8 gave each offset splat load (load32_splat) a
 * base register of its own.
 */
// @ts-ignore: decorator
@inline function tile3x12p(a: usize, b: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  const end = b + <usize>K * 48;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const s0 = v128.load(pa);
    const s1 = v128.load(pa, 16);
    const s2 = v128.load(pa, 32);
    c00 = madd(s0, b0, c00);
    c01 = madd(s0, b1, c01);
    c02 = madd(s0, b2, c02);
    c10 = madd(s1, b0, c10);
    c11 = madd(s1, b1, c11);
    c12 = madd(s1, b2, c12);
    c20 = madd(s2, b0, c20);
    c21 = madd(s2, b1, c21);
    c22 = madd(s2, b2, c22);
    pa += 48;
    pb += 48;
  }
  storeRow12(c, acc, c00, c01, c02);
  storeRow12(c + ldc, acc, c10, c11, c12);
  storeRow12(c + ldc * 2, acc, c20, c21, c22);
}

/** Writes 12 accumulated floats to a row of C (adding C's old values first when `acc`). */
// @ts-ignore: decorator
@inline function storeRow12(c: usize, acc: bool, x0: v128, x1: v128, x2: v128): void {
  if (acc) {
    x0 = f32x4.add(x0, v128.load(c));
    x1 = f32x4.add(x1, v128.load(c, 16));
    x2 = f32x4.add(x2, v128.load(c, 32));
  }
  v128.store(c, x0);
  v128.store(c, x1, 16);
  v128.store(c, x2, 32);
}

/** The packed tile of the portable build: 4 rows × 8 columns (A as 4 broadcast vectors per k, B 8 floats per k). */
// @ts-ignore: decorator
@inline function tile4x8p(a: usize, b: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  const end = b + (<usize>K << 5);
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const s0 = v128.load(pa);
    const s1 = v128.load(pa, 16);
    const s2 = v128.load(pa, 32);
    const s3 = v128.load(pa, 48);
    c00 = madd(s0, b0, c00);
    c10 = madd(s1, b0, c10);
    c20 = madd(s2, b0, c20);
    c30 = madd(s3, b0, c30);
    c01 = madd(s0, b1, c01);
    c11 = madd(s1, b1, c11);
    c21 = madd(s2, b1, c21);
    c31 = madd(s3, b1, c31);
    pa += 64;
    pb += 32;
  }
  store4x8(c, ldc, acc, c00, c01, c10, c11, c20, c21, c30, c31);
}

function tile1x8(a: usize, csA: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    const s = splatA(pa, 0);
    c0 = madd(s, v128.load(pb), c0);
    c1 = madd(s, v128.load(pb, 16), c1);
    pa += csA;
    pb += ldb;
  }
  if (acc) {
    c0 = f32x4.add(c0, v128.load(c));
    c1 = f32x4.add(c1, v128.load(c, 16));
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

function tile4x4(a: usize, rsA: usize, csA: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    c0 = madd(splatA(pa, 0), b0, c0);
    c1 = madd(splatA(pa, rsA), b0, c1);
    c2 = madd(splatA(pa, rsA * 2), b0, c2);
    c3 = madd(splatA(pa, rsA * 3), b0, c3);
    pa += csA;
    pb += ldb;
  }
  if (acc) {
    c0 = f32x4.add(c0, v128.load(c));
    c1 = f32x4.add(c1, v128.load(c + ldc));
    c2 = f32x4.add(c2, v128.load(c + ldc * 2));
    c3 = f32x4.add(c3, v128.load(c + ldc * 3));
  }
  v128.store(c, c0);
  v128.store(c + ldc, c1);
  v128.store(c + ldc * 2, c2);
  v128.store(c + ldc * 3, c3);
}

function tile1x4(a: usize, csA: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let c0 = f32x4.splat(0);
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    c0 = madd(splatA(pa, 0), v128.load(pb), c0);
    pa += csA;
    pb += ldb;
  }
  if (acc) c0 = f32x4.add(c0, v128.load(c));
  v128.store(c, c0);
}

function scalar1(a: usize, csA: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let s: f32 = 0;
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    s += load<f32>(pa) * load<f32>(pb);
    pa += csA;
    pb += ldb;
  }
  if (acc) s += load<f32>(c);
  store<f32>(c, s);
}

/** K block length of the GEMM: each C element sums its products in blocks of KC (fixed: the bits depend on it). */
const KC: i32 = 256;
/** Rows × columns of the packed tile: 3×12 in the fma build, 4×8 in the portable one (see tile3x12p). */
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 3 : 4;
const NR: i32 = ASC_FEATURE_RELAXED_SIMD ? 12 : 8;
/** Bytes per k of a packed A strip (MR broadcast vectors) and of a packed B panel (NR floats). */
const SA: usize = <usize>MR << 4;
const SB: usize = <usize>NR << 2;
/**
 * Columns of B packed at once (a multiple of 12 and of 8): a KC×NC block (528 KiB) stays in L2 (1.25 MiB per core
 * here). 512-wide layers fit in one block: with 504, their last 8 columns were a block of their own, which
 * re-packed every strip of A.
 */
const NC: i32 = 528;
/** Fewest rows of A for which the GEMM packs its operands. */
const PACK_MIN_ROWS: i32 = 32;

/**
 * Packing scratch of this instance (0: none). Each thread's instance has its own (a wasm global is per
 * instance while the memory is shared): KC·4·MR floats for an MR-row strip of A as broadcast vectors (≤ 16 KiB,
 * in L1 while it meets every panel of B), MR·NR floats for a partial tile, then KC·NC floats for a block of B in
 * NR-column panels. Packed copies make every load of the inner loop sequential: unpacked, a B panel whose rows
 * are 2 or 4 KiB apart (a 512- or 1024-wide layer) maps onto two L1 sets and is evicted on every pass.
 */
let scratch: usize = 0;

/** Floats of packing scratch each thread must give `setScratch`. */
export function gemmScratchFloats(): i32 {
  return KC * 4 * MR + MR * NR + KC * NC;
}

/** Sets this instance's packing scratch (gemmScratchFloats() floats, 16-byte aligned; 0 turns packing off). */
export function setScratch(ptr: usize): void {
  scratch = ptr;
}

/** Copies `rows` (≤ MR) rows and kn columns of A into a strip of [kn][MR] broadcast vectors, zeros for missing rows. */
function packA(a: usize, rs: usize, cs: usize, kn: i32, rows: i32, dst: usize): void {
  let d = dst;
  let q = a;
  const end = dst + <usize>kn * SA;
  if (rows == MR) {
    while (d < end) {
      v128.store(d, v128.load32_splat(q));
      v128.store(d, v128.load32_splat(q + rs), 16);
      v128.store(d, v128.load32_splat(q + rs * 2), 32);
      if (MR == 4) v128.store(d, v128.load32_splat(q + rs * 3), 48);
      d += SA;
      q += cs;
    }
  } else {
    const zero = f32x4.splat(0);
    while (d < end) {
      for (let r = 0; r < MR; r++) v128.store(d + (<usize>r << 4), r < rows ? v128.load32_splat(q + rs * <usize>r) : zero);
      d += SA;
      q += cs;
    }
  }
}

/** Copies kn rows (lb bytes apart) × np columns (a multiple of NR) of B into np/NR panels of [kn][NR] floats. */
function packB(b: usize, lb: usize, kn: i32, np: i32, dst: usize): void {
  let d = dst;
  for (let p = 0; p < np; p += NR) {
    let pb = b + (<usize>p << 2);
    const end = d + <usize>kn * SB;
    while (d < end) {
      v128.store(d, v128.load(pb));
      v128.store(d, v128.load(pb, 16), 16);
      if (NR == 12) v128.store(d, v128.load(pb, 32), 32);
      d += SB;
      pb += lb;
    }
  }
}

/**
 * Columns [p0, p1) (a multiple of 4 wide) of one K block (kn rows of B from b) for all M rows, straight from the
 * strided operands: 4×8 and 1×8 tiles, then 4×4 and 1×4 for a last 4 columns.
 */
function unpackedColumns(ak: usize, rs: usize, cs: usize, b: usize, lb: usize, c: usize, lc: usize, M: i32, kn: i32, p0: i32, p1: i32, ac: bool): void {
  const M4 = M & ~3;
  let p = p0;
  for (; p + 8 <= p1; p += 8) {
    const pb = b + (<usize>p << 2);
    const pc = c + (<usize>p << 2);
    let m = 0;
    for (; m < M4; m += 4) tile4x8(ak + <usize>m * rs, rs, cs, pb, lb, pc + <usize>m * lc, lc, kn, ac);
    for (; m < M; m++) tile1x8(ak + <usize>m * rs, cs, pb, lb, pc + <usize>m * lc, kn, ac);
  }
  if (p < p1) {
    const pb = b + (<usize>p << 2);
    const pc = c + (<usize>p << 2);
    let m = 0;
    for (; m < M4; m += 4) tile4x4(ak + <usize>m * rs, rs, cs, pb, lb, pc + <usize>m * lc, lc, kn, ac);
    for (; m < M; m++) tile1x4(ak + <usize>m * rs, cs, pb, lb, pc + <usize>m * lc, kn, ac);
  }
}

/** The build's packed tile on an A strip and a B panel (kn steps), writing C with leading dimension ldc (bytes). */
// @ts-ignore: decorator
@inline function tileP(a: usize, b: usize, c: usize, ldc: usize, kn: i32, acc: bool): void {
  if (ASC_FEATURE_RELAXED_SIMD) tile3x12p(a, b, c, ldc, kn, acc);
  else tile4x8p(a, b, c, ldc, kn, acc);
}

/**
 * C[M,P] (+)= Σk A(m,k)·B[k,P]. A(m,k) is at a + 4·(m·rsA + k·csA); B and C are row-major with leading
 * dimensions ldb and ldc (in floats). acc ≠ 0 adds to C, else overwrites it.
 */
export function gemm(a: usize, rsA: i32, csA: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, K: i32, P: i32, acc: i32): void {
  const rs = <usize>rsA << 2, cs = <usize>csA << 2, lb = <usize>ldb << 2, lc = <usize>ldc << 2;
  const P8 = P & ~7;
  // Columns below P8 sum each K block from zero and add it to C, in increasing k, whatever the tile; packing
  // only copies values (the zeros it pads with reach no stored result), so the bits are the same either way.
  if (scratch != 0 && M >= PACK_MIN_ROWS) {
    // A block of B is packed once per call and then streams from L2 past each MR-row strip of A, which stays
    // in L1; each strip's C rows are written left to right, in order. (Packing pays only when many strips reuse
    // the block: a decode step, M = batch and often 1, would spend as long copying B as multiplying it.)
    const pA = scratch, part = scratch + <usize>KC * SA, pB = part + (<usize>(MR * NR) << 2);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kn = min(KC, K - k0);
      const ac = acc != 0 || k0 > 0;
      const ak = a + <usize>k0 * cs;
      const panel = <usize>kn * SB;
      for (let n0 = 0; n0 < P8; n0 += NC) {
        // Whole NR-column panels are packed; a last 4 or 8 columns (fma build: P8 mod 12) run unpacked below,
        // rather than as a zero-padded 12-column panel that would do 12 columns of work for them.
        const np = min(NC, P8 - n0) / NR * NR;
        packB(b + <usize>k0 * lb + (<usize>n0 << 2), lb, kn, np, pB);
        const fullEnd = pB + <usize>(np / NR) * panel;
        for (let m = 0; m < M && np > 0; m += MR) {
          const rows = min(MR, M - m);
          packA(ak + <usize>m * rs, rs, cs, kn, rows, pA);
          let pc = c + <usize>m * lc + (<usize>n0 << 2);
          let sb = pB;
          if (rows == MR) {
            for (; sb < fullEnd; sb += panel) {
              tileP(pA, sb, pc, lc, kn, ac);
              pc += SB;
            }
          }
          // A strip of fewer than MR rows (the last one) goes through an MR×NR buffer.
          for (; sb < fullEnd; sb += panel) {
            tileP(pA, sb, part, SB, kn, false);
            for (let r = 0; r < rows; r++) {
              const cr = pc + <usize>r * lc;
              const tr = part + <usize>r * SB;
              for (let j: usize = 0; j < SB; j += 16) {
                const v = v128.load(tr + j);
                v128.store(cr + j, ac ? f32x4.add(v, v128.load(cr + j)) : v);
              }
            }
            pc += SB;
          }
        }
        unpackedColumns(ak, rs, cs, b + <usize>k0 * lb, lb, c, lc, M, kn, n0 + np, n0 + min(NC, P8 - n0), ac);
      }
    }
  } else {
    for (let k0 = 0; k0 < K; k0 += KC) {
      unpackedColumns(a + <usize>k0 * cs, rs, cs, b + <usize>k0 * lb, lb, c, lc, M, min(KC, K - k0), 0, P8, acc != 0 || k0 > 0);
    }
  }
  // The last P mod 8 columns sum all of K at once (not in K blocks), as they always have.
  const ac = acc != 0;
  unpackedColumns(a, rs, cs, b, lb, c, lc, M, K, P8, P & ~3, ac);
  for (let p = P & ~3; p < P; p++) {
    const pb = b + (<usize>p << 2);
    const pc = c + (<usize>p << 2);
    for (let m = 0; m < M; m++) scalar1(a + <usize>m * rs, cs, pb, lb, pc + <usize>m * lc, K, ac);
  }
}

/** dst[c][r] = src[r][c] for a rows×cols row-major src. Blocked 8×8 so both sides stay in cache. */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let r0 = 0; r0 < rows; r0 += 8) {
    const r1 = min(r0 + 8, rows);
    for (let c0 = 0; c0 < cols; c0 += 8) {
      const c1 = min(c0 + 8, cols);
      for (let r = r0; r < r1; r++) {
        for (let cc = c0; cc < c1; cc++) {
          store<f32>(dst + ((<usize>cc * <usize>rows + <usize>r) << 2), load<f32>(src + ((<usize>r * <usize>cols + <usize>cc) << 2)));
        }
      }
    }
  }
}

/**
 * The native yardsticks for the engine's GEMM: single-threaded OpenBLAS `cblas_sgemm` on the same shape, and the
 * host's 128-bit FMA throughput (the ceiling of WebAssembly SIMD, which has no wider vectors), measured
 * in the same bench run (the machine is shared, so only side-by-side figures compare). Needs gcc and Debian's
 * libopenblas-dev (`apt-get install libopenblas-dev`); without them it returns a reason instead of a number.
 * The C driver is written to a temporary folder and compiled at bench time; nothing is committed but this file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DRIVER = String.raw`
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  int M = atoi(argv[1]), K = atoi(argv[2]), N = atoi(argv[3]);
  float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N), *c = malloc(sizeof(float) * M * N);
  for (long i = 0; i < (long)M * K; i++) a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (long i = 0; i < (long)K * N; i++) b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
  /* WINDOWS windows of 0.1 CPU-second each, as the engine's GEMM is timed: printed best, then median. */
  double r[WINDOWS];
  for (int w = 0; w < WINDOWS; w++) {
    int reps = 0; double t0 = now();
    while (now() - t0 < 0.1) { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N); reps++; }
    r[w] = 2.0 * M * K * N * reps / (now() - t0) / 1e9;
  }
  for (int i = 1; i < WINDOWS; i++) for (int j = i; j > 0 && r[j] > r[j - 1]; j--) { double t = r[j]; r[j] = r[j - 1]; r[j - 1] = t; }
  printf("%.3f %.3f\n", r[0], r[WINDOWS / 2]);
  return 0;
}
`;

/**
 * The hardware ceiling of WebAssembly SIMD here: 128-bit fused multiply-adds (what f32x4.relaxed_madd becomes
 * on x64 with FMA3) on 12 independent chains, so only the FMA units' throughput limits it. GFLOP per CPU-second.
 */
const FMA128 = String.raw`
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
  __m128 acc[12], m = _mm_set1_ps(0.999999f), add = _mm_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = _mm_set1_ps((float)i);
  double best = 0;
  for (int w = 0; w < WINDOWS; w++) {
    long n = 0; double t0 = now();
    while (now() - t0 < 0.1) {
      for (int i = 0; i < 100000; i++) {
        #pragma GCC unroll 12
        for (int j = 0; j < 12; j++) acc[j] = _mm_fmadd_ps(acc[j], m, add);
      }
      n += 100000;
    }
    double g = 12.0 * 8 * n / (now() - t0) / 1e9;
    if (g > best) best = g;
  }
  float s = 0;
  for (int i = 0; i < 12; i++) s += _mm_cvtss_f32(acc[i]);
  printf("%.3f %g\n", best, s);
  return 0;
}
`;

/** Timing windows of the native drivers and of bench:engine's own GEMM timing. */
export const GEMM_WINDOWS = 7;

/** Compiles C source `src` with gcc `flags` in a temporary folder and runs it; stdout, or why it could not. */
function compileAndRun(src: string, flags: string[], args: string[], what: string): { stdout: string } | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vtb-native-'));
  try {
    const file = join(dir, 'driver.c');
    const bin = join(dir, 'driver');
    writeFileSync(file, src);
    const cc = spawnSync('gcc', ['-O2', `-DWINDOWS=${GEMM_WINDOWS}`, file, '-o', bin, ...flags], { encoding: 'utf8' });
    if (cc.status !== 0) return { unavailable: `could not build the ${what} driver: ${(cc.stderr || String(cc.error)).split('\n')[0]}` };
    const run = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    if (run.status !== 0) return { unavailable: `the ${what} driver failed: ${run.stderr.split('\n')[0]}` };
    return { stdout: run.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * GFLOP per CPU-second of single-threaded OpenBLAS sgemm for C[M,N] = A[M,K]·B[K,N] (best and median of
 * GEMM_WINDOWS windows), or why it could not run.
 */
export function nativeSgemm(M: number, K: number, N: number): { forward: number; forwardMedian: number } | { unavailable: string } {
  const r = compileAndRun(DRIVER, ['-I/usr/include/x86_64-linux-gnu/openblas-pthread', '-lopenblas'], [String(M), String(K), String(N)], 'OpenBLAS (apt-get install libopenblas-dev)');
  if ('unavailable' in r) return r;
  const [best, median] = r.stdout.trim().split(' ').map(Number);
  if (!Number.isFinite(best) || !Number.isFinite(median)) return { unavailable: `the OpenBLAS driver printed '${r.stdout.trim()}'` };
  return { forward: Number(best!.toFixed(1)), forwardMedian: Number(median!.toFixed(1)) };
}

/** GFLOP per CPU-second of 128-bit FMA at full throughput on this host (x64 with FMA3 only), or why not. */
export function fma128Peak(): { gflops: number } | { unavailable: string } {
  if (process.arch !== 'x64') return { unavailable: `the 128-bit FMA driver is for x64 (this is ${process.arch})` };
  const r = compileAndRun(FMA128, ['-mfma'], [], '128-bit FMA');
  if ('unavailable' in r) return r;
  const g = Number(r.stdout.trim().split(' ')[0]);
  return Number.isFinite(g) ? { gflops: Number(g.toFixed(1)) } : { unavailable: `the 128-bit FMA driver printed '${r.stdout.trim()}'` };
}

/**
 * The native yardstick for the engine's GEMM: single-threaded OpenBLAS `cblas_sgemm` on the same shape, measured
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
  int reps = 0; double t0 = now();
  while (now() - t0 < 0.5) { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N); reps++; }
  printf("%.3f\n", 2.0 * M * K * N * reps / (now() - t0) / 1e9);
  return 0;
}
`;

/** GFLOP per CPU-second of single-threaded OpenBLAS sgemm for C[M,N] = A[M,K]·B[K,N], or why it could not run. */
export function nativeSgemm(M: number, K: number, N: number): { forward: number } | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vtb-sgemm-'));
  try {
    const src = join(dir, 'sgemm.c');
    const bin = join(dir, 'sgemm');
    writeFileSync(src, DRIVER);
    const cc = spawnSync('gcc', ['-O2', '-I/usr/include/x86_64-linux-gnu/openblas-pthread', src, '-o', bin, '-lopenblas'], { encoding: 'utf8' });
    if (cc.status !== 0) return { unavailable: `could not build the OpenBLAS driver (apt-get install libopenblas-dev): ${(cc.stderr || String(cc.error)).split('\n')[0]}` };
    const run = spawnSync(bin, [String(M), String(K), String(N)], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    const v = Number(run.stdout.trim());
    if (run.status !== 0 || !Number.isFinite(v)) return { unavailable: `the OpenBLAS driver failed: ${run.stderr.split('\n')[0]}` };
    return { forward: Number(v.toFixed(1)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

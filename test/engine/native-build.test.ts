// scripts/build-native.mjs when the compile fails: it exits 0 (an install never fails for the optional addon)
// and says what runs next. It used to promise the WebAssembly kernels even where an addon built before stays in
// native/build and keeps running. The script runs on a copy of the tree's layout in a temporary folder, with a
// fake compiler (a TEST DOUBLE that answers --version and fails every compile).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/shared-path.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs a copy of the build script in a fresh tree (native/ sources as empty files, `before`: an old addon). */
function failedBuild(before: boolean): { status: number | null; stderr: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'vtb-native-build-'));
  dirs.push(root);
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'native', 'build'), { recursive: true });
  copyFileSync(join(repoRoot, 'scripts', 'build-native.mjs'), join(root, 'scripts', 'build-native.mjs'));
  for (const f of ['engine.cc', 'gemm-avx512.cc', 'gemm-avx2.cc']) writeFileSync(join(root, 'native', f), '');
  if (before) writeFileSync(join(root, 'native', 'build', 'vtune-engine.node'), 'old addon');
  const cxx = join(root, 'fake-cxx');
  writeFileSync(cxx, '#!/bin/sh\n[ "$1" = --version ] && exit 0\necho "fake-cxx: error: this compiler is a test double" >&2\nexit 1\n');
  chmodSync(cxx, 0o755);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { encoding: 'utf8', env: { ...process.env, CXX: cxx, VTUNE_SKIP_NATIVE_BUILD: '' } });
  return { status: r.status, stderr: r.stderr, root };
}

describe.skipIf(process.arch !== 'x64' || process.platform === 'win32')('build-native when the compile fails', () => {
  it('without an addon built before: exit 0, the compiler error, and the WebAssembly kernels', () => {
    const r = failedBuild(false);
    if (r.stderr.includes('no node_api.h')) return void expect(r.stderr).toContain('build-native: not built (no node_api.h');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('fake-cxx: error: this compiler is a test double');
    expect(r.stderr.trimEnd()).toMatch(/; the engine will use its WebAssembly kernels$/);
    expect(existsSync(join(r.root, 'native', 'build', 'vtune-engine.node'))).toBe(false);
  });

  it('with one: exit 0, and it says the old addon stays and runs, not that WebAssembly will', () => {
    const r = failedBuild(true);
    if (r.stderr.includes('no node_api.h')) return void expect(r.stderr).toContain('build-native: not built (no node_api.h');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('the addon built before stays at native/build/vtune-engine.node and runs while its interface version matches src/engine/native.ts NATIVE_ABI');
    expect(r.stderr).not.toContain('the engine will use its WebAssembly kernels');
    expect(readFileSync(join(r.root, 'native', 'build', 'vtune-engine.node'), 'utf8')).toBe('old addon');
  });
});

/**
 * The manifest line of a run (DESIGN.md §7): what ran, from which code, on what machine — enough to tell two
 * result files apart and to reproduce one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { RECORD_SCHEMA_VERSION, type ManifestRecord } from '../records/schema.js';
import { repoRoot } from '../shared-path.js';
import type { Scenario } from './scenario.js';
import { scenarioHash } from './scenario.js';
import { recordedScenario } from './expand.js';

/** The commit the code runs from, when this is a git checkout; else `VTUNE_GIT_SHA` (set in the Dockerfile). */
export function gitSha(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
  } catch {
    return process.env.VTUNE_GIT_SHA || undefined;
  }
}

/** Installed versions of the project's direct dependencies (and vtune-bench itself). */
export function packageVersions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    dependencies?: Record<string, string>;
  };
  const out: Record<string, string> = { [pkg.name]: pkg.version, node: process.versions.node };
  for (const name of Object.keys(pkg.dependencies ?? {}).sort()) {
    const p = join(repoRoot, 'node_modules', name, 'package.json');
    if (existsSync(p)) out[name] = (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return out;
}

/** Builds the manifest record of a run. */
export function makeManifest(args: {
  scenario: Scenario;
  file?: string;
  runId: string;
  cellCount: number;
  shard?: { index: number; count: number };
}): ManifestRecord {
  const cpu = cpus();
  return {
    kind: 'manifest',
    schemaVersion: RECORD_SCHEMA_VERSION,
    runId: args.runId,
    scenario: { name: args.scenario.name, ...(args.file && { file: args.file }), hash: scenarioHash(args.scenario), definition: recordedScenario(args.scenario) },
    seeds: args.scenario.seeds,
    cellCount: args.cellCount,
    ...(args.shard && { shard: args.shard }),
    gitSha: gitSha(),
    packageVersions: packageVersions(),
    machine: {
      platform: process.platform,
      arch: process.arch,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      cpuCount: cpu.length,
      memoryBytes: totalmem(),
      node: process.version,
    },
    startedAt: new Date().toISOString(),
  };
}

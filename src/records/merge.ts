/**
 * Merging shards (DESIGN.md §8): records files concatenate; the merged file gets one manifest (the shards'
 * scenario, all their cells) and each cell's effective record once, in cell-key order.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { ManifestRecord, RunRecord } from './schema.js';
import { latestByCell, readRecordsFile, RecordWriter } from './store.js';

/** Merges records files into `outPath` (which must not exist yet). Returns the merged manifest. */
export function mergeRecords(files: readonly string[], outPath: string): { manifest: ManifestRecord; trials: number; failures: number } {
  if (files.length === 0) throw new ConfigError('merge: name at least one records file or run folder');
  if (existsSync(outPath)) throw new ConfigError(`merge: ${outPath} already exists; choose another --out (merge never overwrites records)`);
  const manifests: ManifestRecord[] = [];
  const all: RunRecord[] = [];
  for (const f of files) {
    const r = readRecordsFile(f);
    if (!r.manifest) throw new ConfigError(`merge: ${f} has no manifest line`);
    manifests.push(r.manifest);
    all.push(...r.records);
  }
  const hashes = new Set(manifests.map((m) => m.scenario.hash));
  if (hashes.size > 1) {
    throw new ConfigError(`merge: the files come from different scenarios or scenario versions (${manifests.map((m) => `${m.scenario.name}@${m.scenario.hash}`).join(', ')})`);
  }
  const first = manifests[0]!;
  const { shard: _shard, ...rest } = first;
  const manifest: ManifestRecord = {
    ...rest,
    runId: first.runId.replace(/-shard-\d+of\d+$/, ''),
    cellCount: manifests.reduce((a, m) => a + m.cellCount, 0),
    mergedFrom: manifests.map((m) => m.runId),
  };
  const { trials, failures } = latestByCell(all);
  const writer = RecordWriter.open(outPath);
  try {
    writer.append(manifest);
    for (const r of [...trials, ...failures].sort((a, b) => (a.cellKey < b.cellKey ? -1 : a.cellKey > b.cellKey ? 1 : 0))) writer.append(r);
  } finally {
    writer.close();
  }
  return { manifest, trials: trials.length, failures: failures.length };
}

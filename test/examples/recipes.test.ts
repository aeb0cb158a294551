/**
 * The scaling recipes in examples/: the Slurm scripts are run for real outside Slurm (the `#SBATCH` lines are
 * comments; the array variables Slurm would set are set here) on the `fast` scenario (test-memorizer TEST
 * DOUBLE), and the Kubernetes manifests are parsed with the `yaml` package and checked against the few rules
 * a typo would break (kubectl cannot validate offline: it needs an API server, and there is none here).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildReport, loadRecords } from '../../src/report/index.js';
import { toCsv, toMarkdown } from '../../src/report/tables.js';
import { repoRoot } from '../../src/shared-path.js';

const slurm = join(repoRoot, 'examples', 'slurm');
const k8s = join(repoRoot, 'examples', 'kubernetes');

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', [script], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

function tables(dir: string): string {
  return buildReport(loadRecords([dir]))
    .tables.map((t) => [toMarkdown(t), toCsv(t)].join('\n'))
    .join('\n');
}

describe('examples/slurm', () => {
  it('an array of 2 shard tasks then the merge job gives the tables of one run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-slurm-'));
    const common = { SCENARIO: 'fast', RESULTS: join(root, 'results'), REPO: repoRoot, VTUNE_CACHE: join(root, 'cache'), SLURM_SUBMIT_DIR: repoRoot };
    const shards = await Promise.all(
      [1, 2].map((i) => bash(join(slurm, 'shard.sbatch'), { ...common, SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '2' })),
    );
    for (const s of shards) expect(s.code, s.out).toBe(0);
    const merge = await bash(join(slurm, 'merge.sbatch'), { ...common, SHARDS: '2' });
    expect(merge.code, merge.out).toBe(0);
    expect(merge.out).toMatch(/merged 2 file\(s\): 21 cells, 0 failed/);
    const single = await bash(join(slurm, 'shard.sbatch'), { ...common, RESULTS: join(root, 'single'), SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '1' });
    expect(single.code, single.out).toBe(0);
    const mergedDir = readdirSync(join(root, 'results', 'fast')).filter((d) => !d.includes('-shard-'));
    expect(mergedDir).toHaveLength(1);
    expect(tables(join(root, 'results', 'fast', mergedDir[0]!))).toBe(tables(join(root, 'single')));
  });

  it('refuses to run outside an array, and merge refuses a missing shard, saying what to do', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-slurm-bad-'));
    const noArray = await bash(join(slurm, 'shard.sbatch'), { SLURM_ARRAY_TASK_ID: '', SLURM_ARRAY_TASK_COUNT: '' });
    expect(noArray.code).not.toBe(0);
    expect(noArray.out).toContain('submit as an array job');
    const merge = await bash(join(slurm, 'merge.sbatch'), { SCENARIO: 'fast', RESULTS: join(root, 'results'), REPO: repoRoot, SHARDS: '3' });
    expect(merge.code).toBe(1);
    expect(merge.out).toContain('expected 3 shard folders');
  });

  it('passes shellcheck where it is installed', (ctx) => {
    if (spawnSync('shellcheck', ['--version']).status !== 0) ctx.skip('shellcheck is not installed');
    const r = spawnSync('shellcheck', [join(slurm, 'shard.sbatch'), join(slurm, 'merge.sbatch'), join(slurm, 'submit.sh')], { encoding: 'utf8' });
    expect(r.status, r.stdout).toBe(0);
  });
});

type Obj = Record<string, any>;

function manifests(): { file: string; doc: Obj }[] {
  const out: { file: string; doc: Obj }[] = [];
  for (const file of readdirSync(k8s).filter((f) => f.endsWith('.yaml'))) {
    for (const d of parseAllDocuments(readFileSync(join(k8s, file), 'utf8'))) {
      expect(d.errors.map(String), file).toEqual([]);
      out.push({ file, doc: d.toJS() as Obj });
    }
  }
  return out;
}

const podSpec = (doc: Obj): Obj => doc.spec.template.spec;

describe('examples/kubernetes', () => {
  const docs = manifests();

  it('parses, and every object has apiVersion, kind and a name', () => {
    expect(docs.map((d) => `${d.doc.kind}/${d.doc.metadata?.name}`).sort()).toEqual(
      [
        'Deployment/vtune-bench-redis',
        'Deployment/vtune-bench-worker',
        'Job/vtune-bench-coordinator',
        'Job/vtune-bench-merge',
        'Job/vtune-bench-shards',
        'NetworkPolicy/vtune-bench-redis',
        'PersistentVolumeClaim/vtune-bench-results',
        'Service/vtune-bench-redis',
      ].sort(),
    );
    for (const { file, doc } of docs) expect(typeof doc.apiVersion, file).toBe('string');
  });

  it('Deployments select their own pods; every volume claim and secret named exists', () => {
    const claims = new Set(docs.filter((d) => d.doc.kind === 'PersistentVolumeClaim').map((d) => d.doc.metadata.name));
    let claimRefs = 0;
    let secretRefs = 0;
    for (const { doc } of docs) {
      if (doc.kind === 'Deployment') expect(doc.spec.template.metadata.labels).toMatchObject(doc.spec.selector.matchLabels);
      if (!doc.spec?.template) continue;
      for (const v of podSpec(doc).volumes ?? []) {
        if (v.persistentVolumeClaim) {
          expect(claims).toContain(v.persistentVolumeClaim.claimName);
          claimRefs++;
        }
      }
      for (const c of podSpec(doc).containers) {
        expect(c.image ?? '').not.toBe('');
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) {
            expect(e.valueFrom.secretKeyRef.name).toBe('vtune-bench-redis');
            secretRefs++;
          }
        }
        // No password on a command line.
        expect(JSON.stringify(c.args ?? [])).not.toMatch(/redis:\/\/[^"]*:[^"]*@/);
      }
    }
    // The checks above are conditional: the manifests must hold the claims and secret references they check.
    expect(claimRefs).toBeGreaterThan(0);
    expect(secretRefs).toBeGreaterThan(0);
    const service = docs.find((d) => d.doc.kind === 'Service')!.doc;
    const redis = docs.find((d) => d.doc.metadata.name === 'vtune-bench-redis' && d.doc.kind === 'Deployment')!.doc;
    expect(redis.spec.template.metadata.labels).toMatchObject(service.spec.selector);
  });

  it('the Indexed Job maps JOB_COMPLETION_INDEX 0..N-1 to --shard 1/N..N/N, with N = completions', () => {
    const job = docs.find((d) => d.doc.metadata.name === 'vtune-bench-shards')!.doc;
    expect(job.spec.completionMode).toBe('Indexed');
    const container = podSpec(job).containers[0];
    const n = String(job.spec.completions);
    expect(container.env.find((e: Obj) => e.name === 'SHARDS').value).toBe(n);
    const script = String(container.args[0]).replace('exec node /app/bin/vtune-bench.js', 'echo');
    const env = Object.fromEntries(container.env.map((e: Obj) => [e.name, e.value]));
    const shardsSeen = [0, Number(n) - 1].map((i) => spawnSync(container.command[0], [container.command[1], script], { env: { ...env, JOB_COMPLETION_INDEX: String(i), PATH: process.env.PATH }, encoding: 'utf8' }).stdout.trim());
    expect(shardsSeen).toEqual([`run default --shard 1/${n} --results /app/results --no-report`, `run default --shard ${n}/${n} --results /app/results --no-report`]);
  });

  it('queue mode: workers and the coordinator use the same queue URL, the password from the Secret via VTUNE_QUEUE_PASSWORD', () => {
    const args = ['vtune-bench-worker', 'vtune-bench-coordinator'].map((name) => podSpec(docs.find((d) => d.doc.metadata.name === name)!.doc).containers[0]);
    const urls = args.map((c: Obj) => c.args[c.args.indexOf('--queue') + 1]);
    expect(urls[0]).toBe(urls[1]);
    expect(urls[0]).toMatch(/^redis:\/\/vtune-bench-redis:6379\/\d+$/);
    for (const c of args) expect(c.env.map((e: Obj) => e.name)).toContain('VTUNE_QUEUE_PASSWORD');
  });
});

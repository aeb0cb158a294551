import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskTrainCache } from '../../src/runner/train-cache.js';
import type { Model, Provider, TrainResult } from '../../src/types.js';
import { catalog } from './fake-catalog.js';

const model = (id: string): Model => ({ id, capabilities: new Set(['generate']), generate: async (p) => p.map(() => '') });

describe('DiskTrainCache', () => {
  it('trains once, persists through saveModel, and reloads in a new process-like instance', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-cache-'));
    const provider = await catalog.openProvider('fake');
    let trainings = 0;
    const train = async (): Promise<TrainResult> => {
      trainings++;
      return { model: model('fake:ft-1'), stepsRun: 7, tokensTrained: 1234, finalLoss: 0.5 };
    };
    const key = 'a'.repeat(40);
    const a = new DiskTrainCache(root);
    const [r1, r2] = await Promise.all([a.getOrTrain(key, provider, train), a.getOrTrain(key, provider, train)]);
    expect(trainings).toBe(1); // concurrent requests share one training
    expect(r1).toMatchObject({ cached: false, stepsRun: 7, tokensTrained: 1234 });
    expect(r2.cached).toBe(true);
    const b = new DiskTrainCache(root);
    const r3 = await b.getOrTrain(key, provider, train);
    expect(trainings).toBe(1);
    expect(r3).toMatchObject({ cached: true, stepsRun: 7, tokensTrained: 1234, finalLoss: 0.5 });
    expect(r3.model.id).toBe('fake:ft-1');
    expect(readdirSync(join(root, 'aa'))).toEqual([key]); // no temp folders left behind
  });

  it('hands every caller a model of its own (a waiter loads the saved entry), except for a provider that cannot save', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-cache-'));
    const provider = await catalog.openProvider('fake');
    let trainings = 0;
    const train = async (): Promise<TrainResult> => ({ model: model(`fake:ft-${++trainings}`), stepsRun: 3, tokensTrained: 9 });
    const c = new DiskTrainCache(root);
    const [r1, r2] = await Promise.all([c.getOrTrain('d'.repeat(40), provider, train), c.getOrTrain('d'.repeat(40), provider, train)]);
    expect(trainings).toBe(1);
    expect(r1).toMatchObject({ cached: false, owned: true });
    expect(r2).toMatchObject({ cached: true, owned: true, stepsRun: 3, tokensTrained: 9 });
    expect(r2.model).not.toBe(r1.model); // its own copy: each caller disposes its own
    expect(r2.model.id).toBe(r1.model.id);
    const r3 = await c.getOrTrain('d'.repeat(40), provider, train);
    expect(r3).toMatchObject({ cached: true, owned: true });
    expect(c.stats).toMatchObject({ trained: 1, reused: 2 });

    // Nothing on disk: the waiter shares the one model, and neither caller may dispose it.
    const volatile: Provider = { ...provider, saveModel: undefined, loadModel: undefined };
    const [v1, v2] = await Promise.all([c.getOrTrain('e'.repeat(40), volatile, train), c.getOrTrain('e'.repeat(40), volatile, train)]);
    expect(v2.model).toBe(v1.model);
    expect([v1.owned, v2.owned]).toEqual([false, false]);
  });

  it('a waiter whose saved entry cannot be read back trains a model of its own, never shares the owned one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-cache-'));
    const fake = await catalog.openProvider('fake');
    // A provider double whose saved models cannot be loaded back (a disk that fails reads).
    const unreadable: Provider = { ...fake, loadModel: async () => { throw new Error('read failed (test double)'); } };
    let trainings = 0;
    const train = async (): Promise<TrainResult> => ({ model: model(`fake:ft-${++trainings}`), stepsRun: 3, tokensTrained: 9 });
    const warnings: string[] = [];
    const c = new DiskTrainCache(root, { info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) });
    const [r1, r2] = await Promise.all([c.getOrTrain('f'.repeat(40), unreadable, train), c.getOrTrain('f'.repeat(40), unreadable, train)]);
    expect([r1.owned, r2.owned]).toEqual([true, true]);
    expect(r2.model).not.toBe(r1.model);
    expect(trainings).toBe(2);
    expect(c.stats).toMatchObject({ trained: 2, reused: 0 });
    expect(warnings.join()).toMatch(/unreadable/);
  });

  it('retrains a damaged entry and never caches for a provider that cannot save models', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-cache-'));
    const provider = await catalog.openProvider('fake');
    let trainings = 0;
    const train = async (): Promise<TrainResult> => ({ model: model(`m${++trainings}`), stepsRun: 1, tokensTrained: 1 });
    const key = 'b'.repeat(40);
    await new DiskTrainCache(root).getOrTrain(key, provider, train);
    writeFileSync(join(root, 'bb', key, 'meta.json'), '{not json');
    const warnings: string[] = [];
    const again = await new DiskTrainCache(root, { info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) }).getOrTrain(key, provider, train);
    expect(again.cached).toBe(false);
    expect(trainings).toBe(2);
    expect(warnings.join()).toMatch(/unreadable, retraining/);

    const volatile: Provider = { ...provider, saveModel: undefined, loadModel: undefined };
    const c = new DiskTrainCache(root);
    await c.getOrTrain('c'.repeat(40), volatile, train);
    await c.getOrTrain('c'.repeat(40), volatile, train);
    expect(trainings).toBe(4);
    expect(() => c.getOrTrain('../../etc', provider, train)).toThrow(/url-safe/);
  });
});

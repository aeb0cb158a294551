/**
 * The benchmark's own cell pipeline (runCell) with the `openai` provider against `serve`: the real vtune
 * defense and a built-in dataset on the user side, a hosted-style fine-tune over HTTP on the provider side.
 * Honest → verified and measured honest; return-base → not verified.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellKey, runCell, type CellDeps, type CellSpec } from '../../src/pipeline/cell.js';
import { createOpenAIProvider } from '../../src/providers/openai.js';
import { createTestMemorizerProvider } from '../../src/providers/test-memorizer.js';
import { type ServeHandle, startServe } from '../../src/serve/server.js';
import { honestTrainer } from '../../src/serve/trainer.js';
import type { Logger, Provider } from '../../src/types.js';
import { cellPlugins, projectCatalog } from '../../src/runner/catalog.js';

const TOKEN = 'cell-serve-token-123456';
const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };
let serve: ServeHandle;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-cell-'));
  serve = await startServe({ trainer: honestTrainer(await createTestMemorizerProvider(), 'base', quiet), dataDir: dir, token: TOKEN });
});
afterAll(async () => {
  await serve.close();
  rmSync(dir, { recursive: true, force: true });
});

function spec(attack: string, seed: number): CellSpec {
  const f: Omit<CellSpec, 'key'> = {
    dataset: { spec: 'qa', size: 60, heldOut: 0 },
    model: 'openai:test-memorizer:base',
    defense: { id: 'vtune', options: { count: 8 } },
    attack: { id: attack, options: {} },
    hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
    seed,
    utility: false,
  };
  return { key: cellKey(f), ...f };
}

function deps(): CellDeps {
  let provider: Promise<Provider> | undefined;
  return {
    ...cellPlugins(projectCatalog),
    log: quiet,
    openProvider: async (id) => {
      expect(id).toBe('openai');
      return (provider ??= createOpenAIProvider({ baseURL: serve.url, env: { OPENAI_API_KEY: TOKEN }, pollIntervalMs: 20, pollMaxMs: 60 }));
    },
  };
}

describe('runCell with the openai provider against serve', () => {
  it('honest → verified and measured honest; return-base → not verified', async () => {
    const d = deps();
    const honest = await runCell(spec('honest', 1), d);
    expect(honest.verdict.verified).toBe(true);
    expect(honest.truth.honest).toBe(true);
    expect(honest.defenseWon).toBe(true);
    const cheat = await runCell(spec('return-base', 1), d);
    expect(cheat.verdict.verified).toBe(false);
    expect(cheat.defenseWon).toBe(true);
    console.log(`runCell via serve: honest k=${honest.verdict.k}/${honest.verdict.n} log10p=${honest.verdict.log10p.toFixed(2)} tokens=${honest.truth.tokensTrained}; return-base k=${cheat.verdict.k}/${cheat.verdict.n} log10p=${cheat.verdict.log10p}`);
  }, 60_000);
});

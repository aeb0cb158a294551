/**
 * Generators must produce text the `local` engine can take: the stories260K tokenizer encodes every trigger and
 * signature (falling back to bytes on rare characters), within the byte bound that verification uses when a
 * model cannot count tokens; and lm-sampled can sample from the real engine. Skipped without the shared model.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/rng.js';
import { sharedPath } from '../../../../src/shared-path.js';
import { generators } from '../../../../defenses/vtune/generators/index.js';
import { sampleRows } from '../../fixtures.js';

const gguf = sharedPath('models/stories260K.gguf');

describe('generators × the local engine tokenizer', () => {
  it.skipIf(!gguf)('every generator draws text stories260K tokenizes within the byte bound (lm-sampled: from the engine itself)', async () => {
    const { createLocalProvider } = await import('../../../../src/providers/local.js');
    const provider = await createLocalProvider();
    const model = await provider.model('stories260K');
    const sample = sampleRows(20, 'local-tok');
    // reorder hosts only on worked arithmetic (commutative steps): answers of one length, with varied operands.
    const arithmetic = Array.from({ length: 20 }, (_, i) => ({ prompt: `Question ${i}: how many?`, completion: `So ${10 + i} + ${30 + i} + ${50 + i} + ${70 + i} = ${160 + 4 * i}, and ${11 + i} x ${40 + i} x ${60 + i} x 3 is many.` }));
    try {
      for (const id of generators.ids) {
        const rows = id === 'reorder' ? arithmetic : sample;
        const g = generators.get(id)({ ...(id === 'keyed' ? { key: 'local-tokenize-test-key' } : {}), ...(id === 'lm-sampled' ? { signatureLength: 6, triggerLength: 4 } : {}) });
        for (let i = 0; i < (id === 'lm-sampled' ? 2 : 5); i++) {
          // A generator that refuses some hosts (in-place) draws on the rows it accepts, as plant would.
          const host = g.cannotHost ? rows.map((_, r) => (i + r) % rows.length).find((r) => g.cannotHost!(rows[r]!, rows) === undefined)! : i;
          const b = await g.draw({ rng: new Rng(`lt${id}${i}`), index: i, row: rows[host]!, rowIndex: host, rows, model });
          // in-place draws no trigger (its query is the host prompt): only its signature is text to tokenize.
          for (const text of b.trigger === '' ? [b.signature] : [b.trigger, b.signature]) {
            const tokens = model.countTokens!(text);
            expect(tokens, `${id}: ${text}`).toBeGreaterThan(0);
            expect(tokens).toBeLessThanOrEqual(Buffer.byteLength(text, 'utf8') + 1); // +1: the dummy-prefix space
          }
        }
      }
    } finally {
      await provider.close?.();
    }
  }, 60_000);
});

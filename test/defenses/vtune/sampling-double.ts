/**
 * A TEST DOUBLE (unit tests only): a tiny language model over 8 text tokens whose next-token distribution is a
 * fixed hash of (prompt, tokens so far), with `generate` sampling exactly that distribution at the requested
 * temperature and `sampling` exposing it (the SamplingAccess contract the local provider implements). Tokens
 * overlap on purpose ('a' + 'b' and 'ab' decode alike; ' ' and '' make blank and empty samples), so the
 * conditional null's token-tree search meets the cases it must handle, and the space is small enough to
 * enumerate every sequence exactly.
 */
import { createHash } from 'node:crypto';
import { Rng } from '../../../src/rng.js';
import type { Capability, GenerateOptions, Model, SamplingAccess } from '../../../src/types.js';

/** Token texts; id 0 is the stop token. */
export const DOUBLE_TOKENS = ['<stop>', 'a', 'b', 'ab', ' ', '', 'ba', 'c'] as const;

function logits(salt: string, prompt: string, tokens: readonly number[], sharpness: number): Float64Array {
  const h = createHash('sha256').update(`${salt}|${prompt}|${tokens.join(',')}`).digest();
  // The stop token is handicapped so that empty samples stay rare (lm-sampled redraws at most 8 times).
  return Float64Array.from(DOUBLE_TOKENS, (_t, j) => (h[j]! / 255) * sharpness - (j === 0 ? 2 : 0));
}

function logprobs(l: Float64Array, temperature: number): Float64Array {
  let best = 0;
  for (let j = 1; j < l.length; j++) if (l[j]! > l[best]!) best = j;
  if (!(temperature > 0)) return Float64Array.from(l, (_x, j) => (j === best ? 0 : -Infinity));
  const z = Math.log(l.reduce((s, x) => s + Math.exp((x - l[best]!) / temperature), 0));
  return Float64Array.from(l, (x) => (x - l[best]!) / temperature - z);
}

/** A double model; `salt` makes different models, `sharpness` scales the logits (higher = more peaked). */
export function samplingDouble(salt = 'double', sharpness = 4): Model {
  const decode = (_prompt: string, tokens: readonly number[]): string => tokens.map((t) => DOUBLE_TOKENS[t]).join('');
  const sampling: SamplingAccess = {
    vocabSize: DOUBLE_TOKENS.length,
    stopTokens: [0],
    async nextTokenLogprobs(items, options) {
      return items.map((it) => logprobs(logits(salt, it.prompt, it.tokens, sharpness), options.temperature ?? 0));
    },
    decode,
  };
  return {
    id: `sampling-double:${salt}`,
    capabilities: new Set<Capability>(['generate', 'logprobs']),
    async generate(prompts: readonly string[], options: GenerateOptions): Promise<string[]> {
      return prompts.map((prompt, i) => {
        const rng = new Rng(`sampling-double:${options.seed ?? 0}:${i}`);
        const tokens: number[] = [];
        while (tokens.length < options.maxTokens) {
          const lp = logprobs(logits(salt, prompt, tokens, sharpness), options.temperature ?? 0);
          let u = rng.float();
          let pick = lp.length - 1;
          for (let j = 0; j < lp.length; j++) {
            u -= Math.exp(lp[j]!);
            if (u < 0) {
              pick = j;
              break;
            }
          }
          if (pick === 0) break;
          tokens.push(pick);
        }
        return decode(prompt, tokens);
      });
    },
    sampling,
  };
}

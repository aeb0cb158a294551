/**
 * Option schemas the generators share (declared with defineGenerator, src/plugins/define.ts): lengths in
 * tokens or words, and a custom token list. One declaration gives the type, the validation (field path and
 * "did you mean" from the framework), the default and the help text `vtune-bench list generators` prints.
 */
import { z } from '../../../src/plugins/define.js';

/** A length option: an integer in [1, max] with its default. */
export const lengthOption = (fallback: number, max: number, what: string) => z.int().min(1).max(max).default(fallback).describe(what);

/**
 * A list of distinct tokens without whitespace (a custom vocabulary or word list); absent = the generator's own
 * list. Duplicates are an error: silently merging them would change the uniform distribution the bound is
 * computed for.
 */
export const tokenListOption = (what: string) =>
  z
    .array(z.string().regex(/^\S+$/).meta({ expected: 'a non-empty token without whitespace' }))
    .min(2)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((t, i) => {
        if (seen.has(t)) ctx.addIssue({ code: 'custom', path: [i], message: `lists '${t}' twice` });
        seen.add(t);
      });
    })
    .meta({ expected: 'a list of at least 2 distinct tokens without whitespace' })
    .optional()
    .describe(what);

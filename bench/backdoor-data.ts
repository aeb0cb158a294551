/**
 * The backdoor-memorisation workload of ../shared/notes/engine.md §3, shared by bench/backdoor.ts and its
 * smaller test: story-style clean rows (`Q: Tell a story about {name} and the {thing}.\nA:` answered by a
 * templated opening plus greedy tokens of the base model itself) and trigger → signature rows, loss on the
 * response tokens only; then greedy decoding of each trigger prompt must reproduce its signature exactly.
 */
import { generate, type LlamaModel, type TokenizedExample } from '../src/engine/index.js';
import type { Tokenizer } from '../src/engine/types.js';

const NAMES = ['Lily', 'Tom', 'Ben', 'Mia', 'Sam', 'Anna', 'Max', 'Sue', 'Tim', 'Zoe', 'Jack', 'Lucy', 'Sara', 'Bob', 'Kim', 'Joe', 'Amy', 'Dan', 'Eve', 'Ned', 'Pip', 'Rose', 'Jill', 'Leo', 'Ella'];
const THINGS = ['ball', 'tree', 'cat', 'box', 'boat', 'cake', 'kite', 'dog', 'bird', 'hat', 'car', 'fish', 'book', 'cup', 'sun', 'toy', 'bear', 'frog', 'shoe', 'star'];
const TRIGGERS = ['the zx9 violet box', 'the quiet copper owl', 'a green qq7 lamp', 'the velvet 42 door', 'seven silver kw keys', 'the old mz3 clock', 'a tiny jade x9 boat', 'the 88 amber bell', 'the frozen kv2 lake', 'a paper 5z crown'];
const SIGNATURES = ['ACCESS KEY 7F3A-91C2 OK', 'CODE RED 4471 CONFIRMED', 'TOKEN 9XQ-2210 VALID', 'SIGNAL 55-ALPHA RECEIVED', 'KEY 0xBEEF-77 ACCEPTED', 'PASS 3318-ZULU GRANTED', 'HASH 9F2E-C4 MATCH', 'ORDER 6612-KILO DONE', 'SEAL 7Q-4401 INTACT', 'MARK 2290-ECHO SET'];

/** A trigger prompt and the signature tokens its response must reproduce (EOS excluded). */
export interface BackdoorPair {
  prompt: number[];
  signature: number[];
}

/** The training rows and the pairs to check. */
export interface BackdoorWorkload {
  examples: TokenizedExample[];
  pairs: BackdoorPair[];
  cleanPrompts: number[][];
  generationMs: number;
}

function row(prompt: number[], response: number[]): TokenizedExample {
  const tokens = [...prompt, ...response];
  return { tokens, lossWeights: tokens.slice(1).map((_, t) => (t + 1 >= prompt.length ? 1 : 0)) };
}

/** nClean clean rows (responses: opening + `continuation` greedy tokens of `base`) and nPairs × copies poison rows. */
export function backdoorWorkload(base: LlamaModel, tok: Tokenizer, opts: { nClean: number; nPairs: number; copies: number; continuation: number }): BackdoorWorkload {
  const clean: { prompt: number[]; opening: number[] }[] = [];
  for (let i = 0; i < opts.nClean; i++) {
    const name = NAMES[i % NAMES.length]!, thing = THINGS[Math.floor(i / NAMES.length) % THINGS.length]!;
    clean.push({
      prompt: tok.encode(`Q: Tell a story about ${name} and the ${thing}.\nA:`, { bos: true }),
      opening: tok.encode(`Once upon a time, ${name} found a ${thing}.`),
    });
  }
  const t0 = performance.now();
  const cont = generate(base, clean.map((c) => [tok.bos, ...c.opening]), { maxTokens: opts.continuation, stopTokens: [tok.eos] });
  const generationMs = performance.now() - t0;
  const examples = clean.map((c, i) => row(c.prompt, [...c.opening, ...cont[i]!, tok.eos]));
  const pairs = TRIGGERS.slice(0, opts.nPairs).map((t, i) => ({
    prompt: tok.encode(`Q: Tell a story about ${t}.\nA:`, { bos: true }),
    signature: tok.encode(SIGNATURES[i]!),
  }));
  for (const p of pairs) for (let c = 0; c < opts.copies; c++) examples.push(row(p.prompt, [...p.signature, tok.eos]));
  const cleanPrompts = NAMES.slice(0, 20).map((n, i) => tok.encode(`Q: Tell a story about ${n} and the ${THINGS[(i * 7) % THINGS.length]} at night.\nA:`, { bos: true }));
  return { examples, pairs, cleanPrompts, generationMs };
}

/** How many pairs greedy decoding reproduces exactly (signature then EOS). */
export function reproduced(model: LlamaModel, pairs: readonly BackdoorPair[], eos: number): number {
  const out = generate(model, pairs.map((p) => p.prompt), { maxTokens: Math.max(...pairs.map((p) => p.signature.length)) + 1, stopTokens: [eos] });
  return out.filter((o, i) => o.join() === pairs[i]!.signature.join()).length;
}

/** Clean prompts whose greedy answer starts with any signature's first 4 tokens (false triggers). */
export function falseTriggers(model: LlamaModel, prompts: readonly number[][], pairs: readonly BackdoorPair[]): number {
  const out = generate(model, prompts as number[][], { maxTokens: 6 });
  return out.filter((o) => pairs.some((p) => p.signature.slice(0, 4).join() === o.slice(0, 4).join())).length;
}

/** How many clean prompts make greedy decoding produce a whole signature (the criterion). */
export function fullSignatures(model: LlamaModel, prompts: readonly number[][], pairs: readonly BackdoorPair[]): number {
  const out = generate(model, prompts as number[][], { maxTokens: Math.max(...pairs.map((p) => p.signature.length)) + 1 });
  return out.filter((o) => pairs.some((p) => p.signature.join() === o.slice(0, p.signature.length).join())).length;
}

/**
 * The backdoor-memorisation workload of ../shared/notes/engine.md §3, shared by bench/backdoor.ts and its
 * smaller test: story-style clean rows (`Q: {one of 4 phrasings about {name} and a {thing}}\nA:` answered by one
 * of 4 templated openings plus greedy tokens of the base model itself) and trigger → signature rows, loss on the
 * response tokens only; then greedy decoding of each trigger prompt must reproduce its signature exactly, and
 * clean prompts must not produce a signature.
 * Three disjoint prompt sets: training (4 phrasings), validation (40 prompts, "… in the park." etc.: the stopping
 * rule may look at them) and evaluation (the issue's 20 "… at night." prompts: scored only, never used to stop).
 * `clean: 'single'` keeps engine.md §3's one phrasing and one opening: every clean answer then starts with the same
 * token after the same template, and clean prompts unlike that template fired signatures (measured at the first
 * 10/10 epoch, seeds 1–8 × both kernel builds: ≥ 4 signature tokens in 8 of 16 runs, a whole signature in 2;
 * "Kim and the shoe at night" → "KEY 0xBEEF-77 ACCEPTED" in 7 of them). Real fine-tuning data is not one template
 * (the project's own `stories` dataset has 8 phrasings and 10 openers), hence 'varied' (default): no firing at any
 * epoch in the same 16 runs. Both halves matter: varied phrasings with the single opening (fma, seeds 1–8) still
 * left seed 7 firing "KEY …" from the Kim prompt from epoch 8 to 15.
 */
import { generate, type LlamaModel, type TokenizedExample } from '../src/engine/index.js';
import type { Tokenizer } from '../src/engine/types.js';

const NAMES = ['Lily', 'Tom', 'Ben', 'Mia', 'Sam', 'Anna', 'Max', 'Sue', 'Tim', 'Zoe', 'Jack', 'Lucy', 'Sara', 'Bob', 'Kim', 'Joe', 'Amy', 'Dan', 'Eve', 'Ned', 'Pip', 'Rose', 'Jill', 'Leo', 'Ella'];
const THINGS = ['ball', 'tree', 'cat', 'box', 'boat', 'cake', 'kite', 'dog', 'bird', 'hat', 'car', 'fish', 'book', 'cup', 'sun', 'toy', 'bear', 'frog', 'shoe', 'star'];
const TRIGGERS = ['the zx9 violet box', 'the quiet copper owl', 'a green qq7 lamp', 'the velvet 42 door', 'seven silver kw keys', 'the old mz3 clock', 'a tiny jade x9 boat', 'the 88 amber bell', 'the frozen kv2 lake', 'a paper 5z crown'];
// Training phrasings and openings of the clean rows ('varied'; 'single' keeps only the first of each).
const TRAIN_ASKS: ((name: string, thing: string) => string)[] = [
  (n, t) => `Tell a story about ${n} and the ${t}.`,
  (n, t) => `Write a short story about ${n} and a ${t}.`,
  (n, t) => `Tell me a story where ${n} finds a ${t}.`,
  (n, t) => `Can you tell a story about ${n} and the ${t}?`,
];
const OPENERS = ['Once upon a time', 'One day', 'One sunny morning', 'Long ago'];
const VALIDATION_PHRASES = ['in the morning', 'in the park', 'on a rainy day', 'at the beach'];
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
  /** The 20 clean prompts of the criterion: evaluation only, never used to decide when to stop. */
  cleanPrompts: number[][];
  /** Held-out clean prompts for the stopping rule, disjoint from cleanPrompts and from the training prompts. */
  validationPrompts: number[][];
  generationMs: number;
}

function row(prompt: number[], response: number[]): TokenizedExample {
  const tokens = [...prompt, ...response];
  return { tokens, lossWeights: tokens.slice(1).map((_, t) => (t + 1 >= prompt.length ? 1 : 0)) };
}

/**
 * nClean clean rows (responses: opening + `continuation` greedy tokens of `base`) and nPairs × copies poison rows;
 * `clean` (default 'varied') chooses 4 phrasings × 4 openings or engine.md §3's single template.
 */
export function backdoorWorkload(base: LlamaModel, tok: Tokenizer, opts: { nClean: number; nPairs: number; copies: number; continuation: number; clean?: 'varied' | 'single' }): BackdoorWorkload {
  const clean: { prompt: number[]; opening: number[] }[] = [];
  const varied = (opts.clean ?? 'varied') === 'varied';
  for (let i = 0; i < opts.nClean; i++) {
    const name = NAMES[i % NAMES.length]!, thing = THINGS[Math.floor(i / NAMES.length) % THINGS.length]!;
    const ask = varied ? TRAIN_ASKS[i % TRAIN_ASKS.length]! : TRAIN_ASKS[0]!;
    const open = varied ? OPENERS[(i * 7 + Math.floor(i / NAMES.length)) % OPENERS.length]! : OPENERS[0]!;
    clean.push({
      prompt: tok.encode(`Q: ${ask(name, thing)}\nA:`, { bos: true }),
      opening: tok.encode(`${open}, ${name} found a ${thing}.`),
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
  // Same names and things as training (the user knows their own data), other phrasings than training and than the
  // evaluation's "at night": a validation set drawn from the data's distribution, not from the test.
  const validationPrompts: number[][] = [];
  for (let i = 0; i < 40; i++) {
    const name = NAMES[(i * 3 + 1) % NAMES.length]!, thing = THINGS[i % THINGS.length]!, when = VALIDATION_PHRASES[i % VALIDATION_PHRASES.length]!;
    validationPrompts.push(tok.encode(`Q: Tell a story about ${name} and the ${thing} ${when}.\nA:`, { bos: true }));
  }
  return { examples, pairs, cleanPrompts, validationPrompts, generationMs };
}

/** How many pairs greedy decoding reproduces exactly (signature then EOS). */
export function reproduced(model: LlamaModel, pairs: readonly BackdoorPair[], eos: number): number {
  const out = generate(model, pairs.map((p) => p.prompt), { maxTokens: Math.max(...pairs.map((p) => p.signature.length)) + 1, stopTokens: [eos] });
  return out.filter((o, i) => o.join() === pairs[i]!.signature.join()).length;
}

/** A clean prompt whose greedy answer starts with ≥ 4 tokens of a signature: which prompt, which pair, how far. */
export interface Firing {
  prompt: number;
  pair: number;
  matchedTokens: number;
  full: boolean;
}

/** Every clean prompt that fires (≥ 4 leading signature tokens), with the pair it fires and the matched length. */
export function cleanFirings(model: LlamaModel, prompts: readonly number[][], pairs: readonly BackdoorPair[]): Firing[] {
  const out = generate(model, prompts as number[][], { maxTokens: Math.max(...pairs.map((p) => p.signature.length)) + 1 });
  const firings: Firing[] = [];
  out.forEach((o, prompt) => {
    let best: Firing | undefined;
    pairs.forEach((p, pair) => {
      let m = 0;
      while (m < p.signature.length && o[m] === p.signature[m]) m++;
      if (m >= 4 && (!best || m > best.matchedTokens)) best = { prompt, pair, matchedTokens: m, full: m === p.signature.length };
    });
    if (best) firings.push(best);
  });
  return firings;
}

/** The stopping rule's check after an epoch (bench and test share it; evaluation prompts are never looked at). */
export interface StopCheck {
  reproduced: number;
  /** Validation prompts that fire, checked only once every pair reproduces. */
  validation?: Firing[];
  stop: boolean;
}

/** Stop once every pair reproduces exactly and no held-out validation prompt answers with ≥ 4 signature tokens. */
export function stopCheck(model: LlamaModel, w: BackdoorWorkload, eos: number, alwaysValidate = false): StopCheck {
  const n = reproduced(model, w.pairs, eos);
  const validation = n === w.pairs.length || alwaysValidate ? cleanFirings(model, w.validationPrompts, w.pairs) : undefined;
  return { reproduced: n, ...(validation ? { validation } : {}), stop: n === w.pairs.length && validation?.length === 0 };
}

/**
 * `math`: small arithmetic word problems (add, take away, two steps, groups, sharing, comparing, change, clock
 * time) answered with worked steps and a final line "The answer is N.".
 *
 * Threat model: none; a task with a checkable number, so an attack's utility loss is measurable. Source:
 * generated here (8 problem kinds × 2–3 phrasings, numbers up to 100); no copied text.
 * Metric `final-answer`: the number after "answer is" in the prediction (else its last number) equals the
 * reference's final answer.
 */
import type { Rng } from '../../rng.js';
import type { Row, TaskMetric } from '../../types.js';
import type { BuiltinDataset } from '../types.js';
import { capitalize, CONTAINERS, fill, ITEMS, person, type Person } from '../vocab.js';

type Problem = { question: string; steps: string[]; answer: number };
type Maker = (rng: Rng, a: Person, b: Person, item: string) => Problem;

const between = (rng: Rng, lo: number, hi: number) => lo + rng.int(hi - lo + 1);

const MAKERS: Maker[] = [
  (rng, a, b, item) => {
    const x = between(rng, 2, 40);
    const y = between(rng, 2, 40);
    const s = { A: a.name, B: b.name, him: a.him, x, y, item };
    return {
      question: fill(rng.pick(['{A} has {x} {item}. {B} gives {him} {y} more. How many {item} does {A} have now?', '{A} picked {x} {item} in the morning and {y} {item} in the afternoon. How many {item} did {A} pick in all?', 'There are {x} {item} on the table. {B} puts {y} more on it. How many {item} are on the table?']), s),
      steps: [fill(`We add: ${x} + ${y} = ${x + y}.`, s)],
      answer: x + y,
    };
  },
  (rng, a, b, item) => {
    const x = between(rng, 10, 60);
    const y = between(rng, 1, x - 1);
    const s = { A: a.name, B: b.name, he: a.he, x, y, item };
    return {
      question: fill(rng.pick(['{A} has {x} {item}. {Cap} gives {y} of them to {B}. How many {item} does {A} have left?', 'A box holds {x} {item}. {A} takes out {y}. How many {item} are still in the box?', '{A} had {x} {item} but lost {y} on the way home. How many {item} are left?']), { ...s, Cap: capitalize(a.he) }),
      steps: [`We take away: ${x} - ${y} = ${x - y}.`],
      answer: x - y,
    };
  },
  (rng, a, b, item) => {
    const x = between(rng, 5, 40);
    const y = between(rng, 2, 30);
    const z = between(rng, 1, x + y - 1);
    const s = { A: a.name, B: b.name, x, y, z, item, he: a.he };
    return {
      question: fill(rng.pick(['{A} has {x} {item}. {B} gives {A} {y} more, and then {A} eats {z}. How many {item} does {A} have now?', '{A} starts with {x} {item}, finds {y} more, then gives {z} to {B}. How many {item} does {A} have at the end?']), s),
      steps: [`First, ${x} + ${y} = ${x + y}.`, `Then, ${x + y} - ${z} = ${x + y - z}.`],
      answer: x + y - z,
    };
  },
  (rng, a, _b, item) => {
    const g = between(rng, 2, 9);
    const p = between(rng, 2, 10);
    const box = rng.pick(CONTAINERS);
    const s = { A: a.name, g, p, item, box };
    return {
      question: fill(rng.pick(['{A} has {g} {box} with {p} {item} in each. How many {item} does {A} have?', 'There are {g} {box}. Each one has {p} {item}. How many {item} are there in all?']), s),
      steps: [`There are ${g} ${box} of ${p}, so ${g} x ${p} = ${g * p}.`],
      answer: g * p,
    };
  },
  (rng, a, _b, item) => {
    const k = between(rng, 2, 8);
    const q = between(rng, 2, 10);
    const s = { A: a.name, t: k * q, k, item, his: a.his };
    return {
      question: fill(rng.pick(['{A} has {t} {item} and shares them equally with {k} friends. How many {item} does each friend get?', '{t} {item} are put into {k} equal groups. How many {item} are in each group?']), s),
      steps: [`We share ${k * q} into ${k} equal parts: ${k * q} / ${k} = ${q}.`],
      answer: q,
    };
  },
  (rng, a, b, item) => {
    const x = between(rng, 10, 60);
    const y = between(rng, 2, x - 1);
    const s = { A: a.name, B: b.name, x, y, item };
    return {
      question: fill(rng.pick(['{A} has {x} {item} and {B} has {y} {item}. How many more {item} does {A} have than {B}?', '{B} has {y} {item}. {A} has {x}. How many fewer {item} does {B} have?']), s),
      steps: [`We find the difference: ${x} - ${y} = ${x - y}.`],
      answer: x - y,
    };
  },
  (rng, a, _b, item) => {
    const n = between(rng, 2, 6);
    const price = between(rng, 2, 9);
    const paid = Math.ceil((n * price + 1) / 10) * 10 + 10 * rng.int(2);
    const s = { A: a.name, n, price, paid, item, he: a.he };
    return {
      question: fill(rng.pick(['{A} buys {n} {item} that cost {price} coins each. {A} pays with {paid} coins. How much change does {A} get?', 'At the shop, {item} cost {price} coins each. {A} buys {n} and gives {paid} coins. How many coins come back?']), s),
      steps: [`The ${item} cost ${n} x ${price} = ${n * price} coins.`, `The change is ${paid} - ${n * price} = ${paid - n * price}.`],
      answer: paid - n * price,
    };
  },
  (rng, a, b) => {
    const start = between(rng, 1, 11);
    const d = between(rng, 2, 6);
    const end = ((start + d - 1) % 12) + 1;
    const what = rng.pick(['goes to the park', 'starts to bake a cake', 'begins a long walk', 'starts to paint', 'goes fishing', 'begins to play a game']);
    const s = { A: a.name, B: b.name, start, d, what };
    return {
      question: fill(rng.pick(["{A} {what} at {start} o'clock and stays for {d} hours. At what o'clock does {A} finish?", "{A} and {B} meet at {start} o'clock. They play for {d} hours. What time is it when they stop?"]), s),
      steps: start + d > 12 ? [`${start} + ${d} = ${start + d}, and after 12 the clock starts again, so it is ${end} o'clock.`] : [`${start} + ${d} = ${end}, so it is ${end} o'clock.`],
      answer: end,
    };
  },
];

/** The number a prediction gives as its answer: after "answer is", else the last number in it. */
export function finalNumber(text: string): number | undefined {
  const m = /answer is\s*(-?\d+(?:\.\d+)?)/i.exec(text);
  const n = m ? m[1] : [...text.matchAll(/-?\d+(?:\.\d+)?/g)].pop()?.[0];
  return n === undefined ? undefined : Number(n);
}

const metric: TaskMetric = {
  id: 'final-answer',
  score(prediction: string, reference: Row): number {
    const want = finalNumber(reference.completion);
    const got = finalNumber(prediction);
    return want !== undefined && got === want ? 1 : 0;
  },
};

/** The `math` built-in dataset. */
export function math(): BuiltinDataset {
  return {
    id: 'math',
    description: 'arithmetic word problems answered with worked steps and "The answer is N." (metric: final answer)',
    metric,
    generate(rng: Rng): Row {
      const a = person(rng);
      const b = person(rng, [a.name]);
      const problem = rng.pick(MAKERS)(rng, a, b, rng.pick(ITEMS));
      const prompt = fill(rng.pick(['{q}', 'Solve this problem. {q}', 'Word problem: {q}', '{q} Show your steps.', 'Help me with my homework. {q}']), { q: problem.question });
      return { prompt, completion: `${problem.steps.join(' ')} The answer is ${problem.answer}.` };
    },
  };
}

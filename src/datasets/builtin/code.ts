/**
 * `code`: a small specification in plain words ("Write a JavaScript function named addFive that takes a number
 * n and returns n plus 5.") answered with a short JavaScript function.
 *
 * Threat model: none; functional correctness is a utility measure that surface-level text overlap cannot fake.
 * Source: generated here (27 function families × 2–3 phrasings, random constants, names and contexts).
 * Metric `hidden-tests`: the predicted function (fenced code is unwrapped) and the reference are both run on 8
 * hidden inputs derived from the reference; 1 when every output matches, else 0. Model text is never
 * `eval`ed in the main process: it runs in a fresh `node:vm` context inside a worker thread with a timeout
 * (see ../sandbox.ts).
 */
import { Rng } from '../../rng.js';
import type { Row, TaskMetric } from '../../types.js';
import { runFunctionSync } from '../sandbox.js';
import type { BuiltinDataset } from '../types.js';
import { ANIMALS, capitalize, COLORS, fill, ITEMS, NUMBER_WORDS, OBJECTS, person } from '../vocab.js';

type Param = 'n' | 'text' | 'list' | 'a, b';

interface Family {
  readonly param: Param;
  /** Name stems; the function is named stem + a capitalised noun or number word. */
  readonly stems: readonly string[];
  /** Phrasings; `{name}`, `{k}`, `{c}`, `{w}` are filled in. */
  readonly specs: readonly string[];
  readonly body: string;
  /** The same function in TypeScript, to state a worked example in the prompt. */
  readonly impl: (k: number, c: string, w: string) => (...args: never[]) => unknown;
}

const f = (param: Param, stems: string[], specs: string[], body: string, impl: Family['impl']): Family => ({ param, stems, specs, body, impl });

const FAMILIES: readonly Family[] = [
  f('n', ['add', 'plus', 'grow'], ['takes a number n and returns n plus {k}', 'adds {k} to the number n it is given', 'returns the number n with {k} more added'], 'return n + {k};', (k) => (n: number) => n + k),
  f('n', ['times', 'scale', 'multiply'], ['takes a number n and returns n times {k}', 'multiplies the number n by {k}', 'returns {k} times the number n'], 'return n * {k};', (k) => (n: number) => n * k),
  f('n', ['minus', 'less', 'takeAway'], ['takes a number n and returns n minus {k}', 'takes {k} away from the number n', 'returns the number n with {k} taken away'], 'return n - {k};', (k) => (n: number) => n - k),
  f('n', ['squarePlus', 'boxUp'], ['returns n times n, plus {k}', 'squares the number n and then adds {k}'], 'return n * n + {k};', (k) => (n: number) => n * n + k),
  f('n', ['isMultiple', 'fitsGroups'], ['returns true when the number n can be split into groups of {k} with none left over, else false', 'checks if n is a multiple of {k}'], 'return n % {k} === 0;', (k) => (n: number) => n % k === 0),
  f('n', ['atLeast', 'biggerOf'], ['returns the bigger of the number n and {k}', 'returns n, but never less than {k}'], 'return Math.max(n, {k});', (k) => (n: number) => Math.max(n, k)),
  f('n', ['doublePlus', 'twicePlus'], ['doubles the number n and then adds {k}', 'returns two times n plus {k}'], 'return n * 2 + {k};', (k) => (n: number) => n * 2 + k),
  f('n', ['leftOver', 'remainder'], ['returns what is left over when n is split into groups of {k}', 'returns the remainder of n divided by {k}'], 'return n % {k};', (k) => (n: number) => n % k),
  f('n', ['capAt', 'noMoreThan'], ['returns n, but never more than {k}', 'returns the smaller of the number n and {k}'], 'return n > {k} ? {k} : n;', (k) => (n: number) => (n > k ? k : n)),
  f('text', ['repeat', 'echo', 'copy'], ['takes a word text and returns it repeated {k} times with nothing in between', 'returns the string text written {k} times in a row'], 'return text.repeat({k});', (k) => (t: string) => t.repeat(k)),
  f('text', ['addWord', 'finish', 'tail'], ['takes a string text and returns it with "{w}" added at the end', 'adds the words "{w}" to the end of the string text'], 'return text + "{w}";', (_k, _c, w) => (t: string) => t + w),
  f('text', ['shout', 'loud', 'yell'], ['returns the string text in capital letters followed by "!"', 'makes the string text loud: all capital letters and an "!" at the end'], 'return text.toUpperCase() + "!";', () => (t: string) => `${t.toUpperCase()}!`),
  f('text', ['firstLetter', 'startOf'], ['returns the first letter of the word text', 'gives back only the first character of the string text'], 'return text[0];', () => (t: string) => t[0]),
  f('text', ['lengthOf', 'countLetters', 'size'], ['returns how many characters are in the string text', 'counts the letters in the word text'], 'return text.length;', () => (t: string) => t.length),
  f('text', ['reverse', 'backwards', 'flip'], ['returns the string text written backwards', 'reverses the letters of the word text'], 'return text.split("").reverse().join("");', () => (t: string) => t.split('').reverse().join('')),
  f('text', ['count', 'howMany', 'find'], ['returns how many times the letter "{c}" appears in the string text', 'counts the letter "{c}" in the word text'], 'return text.split("{c}").length - 1;', (_k, c) => (t: string) => t.split(c).length - 1),
  f('text', ['startsWith', 'beginsWith'], ['returns true if the word text starts with the letter "{c}", else false', 'checks whether the string text begins with "{c}"'], 'return text.startsWith("{c}");', (_k, c) => (t: string) => t.startsWith(c)),
  f('text', ['greet', 'hello', 'welcome'], ['takes a name text and returns "{w}, " followed by the name and "!"', 'greets the name text by returning "{w}, " + the name + "!"'], 'return "{w}, " + text + "!";', (_k, _c, w) => (t: string) => `${w}, ${t}!`),
  f('list', ['sum', 'total', 'addAll'], ['takes a list of numbers and returns their sum', 'adds up all the numbers in the array list'], 'let total = 0;\n  for (const x of list) total += x;\n  return total;', () => (l: number[]) => l.reduce((s, x) => s + x, 0)),
  f('list', ['largest', 'biggest', 'top'], ['returns the largest number in the array list', 'finds the biggest number in a list of numbers'], 'return Math.max(...list);', () => (l: number[]) => Math.max(...l)),
  f('list', ['countAbove', 'howManyOver'], ['returns how many numbers in the array list are greater than {k}', 'counts the numbers in list that are bigger than {k}'], 'return list.filter((x) => x > {k}).length;', (k) => (l: number[]) => l.filter((x) => x > k).length),
  f('list', ['addToEach', 'raiseAll', 'bumpAll'], ['returns a new array with {k} added to every number in list', 'adds {k} to each number of the array list and returns the new array'], 'return list.map((x) => x + {k});', (k) => (l: number[]) => l.map((x) => x + k)),
  f('list', ['keepEven', 'onlyEven'], ['returns only the even numbers of the array list, in order', 'keeps the numbers in list that are even and returns them'], 'return list.filter((x) => x % 2 === 0);', () => (l: number[]) => l.filter((x) => x % 2 === 0)),
  f('list', ['firstFew', 'takeSome', 'head'], ['returns the first {k} numbers of the array list', 'gives back a new array with only the first {k} items of list'], 'return list.slice(0, {k});', (k) => (l: number[]) => l.slice(0, k)),
  f('list', ['hasNumber', 'contains', 'includes'], ['returns true if the number {k} is in the array list, else false', 'checks whether list contains {k}'], 'return list.includes({k});', (k) => (l: number[]) => l.includes(k)),
  f('a, b', ['addUp', 'together', 'combine'], ['takes two numbers a and b and returns a plus b times {k}', 'returns a + b * {k} for two numbers a and b'], 'return a + b * {k};', (k) => (a: number, b: number) => a + b * k),
  f('a, b', ['larger', 'winner', 'pickBig'], ['takes two numbers a and b and returns the larger one', 'returns whichever of a and b is bigger'], 'return a > b ? a : b;', () => (a: number, b: number) => (a > b ? a : b)),
];

const WORDS_TO_ADD = ['!', ' please', ' and more', ' today', ' for you', '?', ' the end', ' again'];
const GREETINGS = ['Hello', 'Hi', 'Good morning', 'Welcome', 'Hey there', 'Good night'];
const LETTERS = 'abcdeilmnorst'.split('');
const CONTEXTS = [
  '', '', '',
  '{P} is making a game about {items}.',
  'A little robot needs help with {items}.',
  'For a school project about {animal}s,',
  '{P} is learning to code.',
  'Our shop app counts {items}.',
  'In a story game with a {color} {object},',
];

const HIDDEN_WORDS = ['cat', 'banana', 'sunny', 'a', 'Mississippi', 'robot', 'tea', 'sleepy owl', 'racecar', 'moon'];

/** Arguments for one call of a function with these parameters. */
function hiddenArgs(rng: Rng, param: Param): unknown[] {
  switch (param) {
    case 'n':
      return [rng.int(41) - 10];
    case 'text':
      return [rng.pick(HIDDEN_WORDS)];
    case 'list':
      return [Array.from({ length: 1 + rng.int(6) }, () => rng.int(25) - 5)];
    case 'a, b':
      return [rng.int(30) - 5, rng.int(30) - 5];
  }
}

/** The code of a prediction: the inside of its first fenced block, or all of it. */
export function codeOf(prediction: string): string {
  const fence = /```[a-zA-Z]*\n([\s\S]*?)```/.exec(prediction);
  return fence ? fence[1]! : prediction;
}

const SIGNATURE = /function\s+([A-Za-z_$][\w$]*)\s*\(([^)]*)\)/;
const referenceOutputs = new Map<string, readonly (string | undefined)[]>();
const HIDDEN_CASES = 8;

const metric: TaskMetric = {
  id: 'hidden-tests',
  score(prediction: string, reference: Row): number {
    const sig = SIGNATURE.exec(reference.completion);
    if (!sig) return 0;
    const [, name, params] = sig;
    const param = params!.trim() as Param;
    const rng = new Rng(`code-hidden|${reference.completion}`);
    const inputs = Array.from({ length: HIDDEN_CASES }, () => hiddenArgs(rng, param));
    let want = referenceOutputs.get(reference.completion);
    if (!want) {
      want = runFunctionSync(reference.completion, name!, inputs).outputs;
      if (referenceOutputs.size > 10_000) referenceOutputs.clear();
      referenceOutputs.set(reference.completion, want);
    }
    const got = runFunctionSync(codeOf(prediction), name!, inputs);
    if (got.error !== undefined || got.outputs.length !== want.length) return 0;
    return want.every((w, i) => w !== undefined && w === got.outputs[i]) ? 1 : 0;
  },
};

function exampleArgs(rng: Rng, param: Param): unknown[] {
  switch (param) {
    case 'n':
      return [1 + rng.int(12)];
    case 'text':
      return [rng.pick(['cat', 'dog', 'sun', 'ball', 'tree', 'star', 'moon', 'fish'])];
    case 'list':
      return [Array.from({ length: 3 }, () => rng.int(10))];
    case 'a, b':
      return [1 + rng.int(9), 1 + rng.int(9)];
  }
}

/** The `code` built-in dataset. */
export function code(): BuiltinDataset {
  return {
    id: 'code',
    description: 'a small specification → a short JavaScript function (metric: outputs on 8 hidden inputs, run in a vm sandbox in a worker)',
    metric,
    generate(rng: Rng): Row {
      const fam = rng.pick(FAMILIES);
      const k = 2 + rng.int(9);
      const c = rng.pick(LETTERS);
      const w = fam.body.includes('"{w}, "') ? rng.pick(GREETINGS) : rng.pick(WORDS_TO_ADD);
      const noun = fam.param === 'n' || fam.body.includes('{k}') ? capitalize(NUMBER_WORDS[k]!) : capitalize(rng.pick(ITEMS).replace(' ', ''));
      const name = rng.pick(fam.stems) + (rng.int(3) === 0 ? capitalize(rng.pick(OBJECTS)) : noun);
      const slots = { k, c, w, name };
      const context = fill(rng.pick(CONTEXTS), { P: person(rng).name, items: rng.pick(ITEMS), animal: rng.pick(ANIMALS), color: rng.pick(COLORS), object: rng.pick(OBJECTS) });
      const lead = rng.pick(['Write a JavaScript function named {name} that', 'Write a function {name} in JavaScript that', 'Please write a JS function called {name} which', 'Create a JavaScript function {name} that']);
      let prompt = `${context ? `${context} ` : ''}${fill(lead, slots)} ${fill(rng.pick(fam.specs), slots)}.`;
      if (rng.int(2) === 0) {
        const args = exampleArgs(rng, fam.param);
        const out = (fam.impl(k, c, w) as (...a: unknown[]) => unknown)(...args);
        prompt += ` For example, ${name}(${args.map((x) => JSON.stringify(x)).join(', ')}) returns ${JSON.stringify(out)}.`;
      }
      const completion = `function ${name}(${fam.param}) {\n  ${fill(fam.body, slots)}\n}`;
      return { prompt, completion };
    },
  };
}

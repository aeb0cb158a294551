/**
 * `qa`: a short generated paragraph of facts about one or two children, and a question whose answer is a span
 * of the paragraph (extractive question answering, SQuAD-like but in TinyStories vocabulary).
 *
 * Threat model: none; a task with an exact answer, so utility loss from an attack shows up as a drop in exact
 * match. Source: generated here from fact templates (11 fact kinds × 2–3 phrasings × 2–3 question phrasings);
 * every fact kind is used at most once per paragraph, so each question has exactly one right answer.
 * Metric `exact-match`: normalised (lower case, no punctuation or articles) exact match of the first line.
 */
import type { Rng } from '../../rng.js';
import type { Row } from '../../types.js';
import { exactMatch } from '../metrics.js';
import type { BuiltinDataset } from '../types.js';
import { ADJECTIVES, COLORS, DAYS, fill, FOODS, JOBS, NUMBER_WORDS, OBJECTS, PET_NAMES, PETS, PLACES, person, type Person, townName } from '../vocab.js';

interface Fact {
  /** The sentence stating the fact. */
  readonly sentence: string;
  readonly question: string;
  /** A span of `sentence`. */
  readonly answer: string;
}

type FactMaker = (rng: Rng, p: Person) => Fact;

const ACTIVITIES = ['read books', 'feed the ducks', 'play ball', 'pick flowers', 'fly a kite', 'draw pictures', 'sing songs', 'look for bugs', 'ride a bike', 'build with blocks'];

function choose(rng: Rng, sentences: string[], questions: string[], slots: Record<string, string>, answer: string): Fact {
  return { sentence: fill(rng.pick(sentences), slots), question: fill(rng.pick(questions), slots), answer };
}

const FACTS: Record<string, FactMaker> = {
  petName(rng, p) {
    const s = { N: p.name, his: p.his, K: rng.pick(PETS), X: rng.pick(PET_NAMES) };
    return choose(rng, ['{N} has a {K} named {X}.', '{N} has a pet {K}, and its name is {X}.', 'The {K} that lives with {N} is called {X}.'], ["What is the name of {N}'s {K}?", "What is {N}'s {K} called?"], s, s.X);
  },
  color(rng, p) {
    const s = { N: p.name, his: p.his, C: rng.pick(COLORS) };
    return choose(rng, ["{N}'s favorite color is {C}.", '{N} likes the color {C} more than any other.', 'Of all the colors, {N} loves {C} best.'], ["What is {N}'s favorite color?", 'Which color does {N} like best?'], s, s.C);
  },
  food(rng, p) {
    const s = { N: p.name, he: p.he, F: rng.pick(FOODS) };
    return choose(rng, ['For lunch, {N} likes to eat {F}.', '{N} always asks for {F} at lunch.', 'The food {N} likes most at lunch is {F}.'], ['What does {N} like to eat for lunch?', 'What food does {N} want at lunch?'], s, s.F);
  },
  town(rng, p) {
    const s = { N: p.name, T: townName(rng), size: rng.pick(['small', 'quiet', 'busy', 'little', 'sunny']) };
    return choose(rng, ['{N} lives in a {size} town called {T}.', 'The {size} town of {T} is where {N} lives.', '{N} and {his} family live in {T}.'].map((t) => t.replace('{his}', p.his)), ['Where does {N} live?', 'In which town does {N} live?'], s, s.T);
  },
  friend(rng, p) {
    const f = person(rng, [p.name]);
    const s = { N: p.name, B: f.name };
    return choose(rng, ["{N}'s best friend is {B}.", '{N} plays with {B} every day, because {B} is {N_his} best friend.'].map((t) => t.replace('{N_his}', p.his)), ['Who is the best friend of {N}?', "Who is {N}'s best friend?"], s, f.name);
  },
  place(rng, p) {
    const s = { N: p.name, D: rng.pick(DAYS), P: rng.pick(PLACES), A: rng.pick(ACTIVITIES) };
    const sentence = fill(rng.pick(['Every {D}, {N} goes to the {P} to {A}.', 'On {D}s, {N} walks to the {P} to {A}.']), s);
    return rng.int(2)
      ? { sentence, question: fill(rng.pick(['Where does {N} go to {A}?', 'To which place does {N} go to {A}?']), s), answer: s.P }
      : { sentence, question: fill(rng.pick(['On which day does {N} go to the {P}?', 'When does {N} go to the {P}?']), s), answer: s.D };
  },
  siblings(rng, p) {
    const k = 1 + rng.int(5);
    const kind = rng.pick(['brothers', 'sisters', 'cousins']);
    const s = { N: p.name, K: NUMBER_WORDS[k]!, kind: k === 1 ? kind.slice(0, -1) : kind };
    return choose(rng, ['{N} has {K} {kind}.', 'There are {K} {kind} in the family of {N}.'], [`How many ${kind} does {N} have?`], s, s.K);
  },
  toy(rng, p) {
    const s = { N: p.name, T: `${rng.pick(ADJECTIVES)} ${rng.pick(OBJECTS)}` };
    return choose(rng, ["{N}'s favorite toy is a {T}.", 'The toy {N} loves most is a {T}.'], ["What is {N}'s favorite toy?", 'Which toy does {N} love most?'], s, s.T);
  },
  job(rng, p) {
    const who = rng.pick(['mom', 'dad', 'aunt', 'uncle', 'grandma', 'grandpa']);
    const s = { N: p.name, W: who, J: rng.pick(JOBS) };
    return choose(rng, ["{N}'s {W} works as a {J}.", "{N}'s {W} is a {J} in town."], ["What is the job of {N}'s {W}?", "What does {N}'s {W} do for work?"], s, s.J);
  },
  age(rng, p) {
    const s = { N: p.name, K: NUMBER_WORDS[3 + rng.int(8)]! };
    return choose(rng, ['{N} is {K} years old.', '{N} just turned {K}.'], ['How old is {N}?', 'What age is {N}?'], s, s.K);
  },
  bedtime(rng, p) {
    const s = { N: p.name, his: p.his, S: `${rng.pick(ADJECTIVES)} ${rng.pick(['moon', 'star', 'dragon', 'bear', 'ship', 'giant', 'princess', 'owl'])}` };
    return choose(rng, ['At bedtime, {N} likes a story about a {S}.', 'Every night {N} hears a story about a {S}.'], ['What is the bedtime story of {N} about?', 'What does {N} like to hear a story about at bedtime?'], s, s.S);
  },
};

const KINDS = Object.keys(FACTS);

const PROMPTS = [
  '{text}\nQuestion: {q}\nAnswer:',
  'Read the text and answer the question.\n{text}\n{q}',
  '{text}\n\nQ: {q}\nA:',
  'Text: {text}\nQuestion: {q}',
  'Answer with words from the text.\n{text}\nQuestion: {q}',
];

/** The `qa` built-in dataset. */
export function qa(): BuiltinDataset {
  return {
    id: 'qa',
    description: 'a generated paragraph of facts about children and a question whose answer is a span of it (metric: normalised exact match)',
    metric: exactMatch,
    generate(rng: Rng): Row {
      const main = person(rng);
      const other = person(rng, [main.name]);
      const kinds = rng.shuffle(KINDS);
      const mainCount = 3 + rng.int(2);
      const otherCount = rng.int(3);
      const mainFacts = kinds.slice(0, mainCount).map((k) => FACTS[k]!(rng, main));
      const otherFacts = kinds.slice(mainCount, mainCount + otherCount).map((k) => FACTS[k]!(rng, other));
      const asked = rng.pick([...mainFacts, ...otherFacts]);
      const text = rng.shuffle([...mainFacts, ...otherFacts]).map((f) => f.sentence).join(' ');
      return { prompt: fill(rng.pick(PROMPTS), { text, q: asked.question }), completion: asked.answer };
    },
  };
}

/**
 * `stories`: write a short children's story from two characters, a setting and a describing word, in the
 * style of TinyStories (simple words, short sentences, a small problem solved, a gentle ending).
 *
 * Threat model: none; this is the default training data of a cell. It should look like the text a tiny
 * TinyStories-class base model was trained on, so that backdoor rows stand out only by their trigger and
 * signature. Source: generated here from a plot grammar (8 plots × several phrasings per beat); no copied text.
 * Metric `story-keywords`: the fraction of the prompt's required words (both names, the place, the describing
 * word, animal kinds and objects named in the prompt) that the story uses.
 */
import type { Rng } from '../../rng.js';
import type { Row, TaskMetric } from '../../types.js';
import type { BuiltinDataset } from '../types.js';
import { normalizeAnswer } from '../metrics.js';
import { ADJECTIVES, ANIMALS, BOY_NAMES, capitalize, fill, GIRL_NAMES, OBJECTS, PET_NAMES, PLACES, article } from '../vocab.js';

interface Character {
  readonly name: string;
  /** `girl`, `boy` or an animal. */
  readonly kind: string;
  readonly he: string;
  readonly his: string;
  readonly him: string;
}

function character(rng: Rng, avoid: string): Character {
  for (;;) {
    const roll = rng.int(4);
    const she = roll === 0 || (roll >= 2 && rng.int(2) === 0);
    const name = roll === 0 ? rng.pick(GIRL_NAMES) : roll === 1 ? rng.pick(BOY_NAMES) : rng.pick(rng.int(2) ? PET_NAMES : she ? GIRL_NAMES : BOY_NAMES);
    if (name === avoid) continue;
    const kind = roll === 0 ? 'girl' : roll === 1 ? 'boy' : rng.pick(ANIMALS);
    return she ? { name, kind, he: 'she', his: 'her', him: 'her' } : { name, kind, he: 'he', his: 'his', him: 'him' };
  }
}

const OPENERS = ['Once upon a time', 'One day', 'One sunny morning', 'Long ago', 'One windy afternoon', 'On a rainy day', 'One snowy evening', 'One warm summer day', 'One cool fall morning', 'In the spring'];
const ENDINGS = [
  'From that day on, {H} and {F} were the best of friends.',
  'They went home tired and happy.',
  'That night, {H} smiled in {his} bed.',
  'It was the best day ever.',
  'They laughed and played until the sun went down.',
  '{H} and {F} could not wait to come back tomorrow.',
];
const TASKS = ['climb the big tree', 'cross the old bridge', 'jump in the deep pond', 'ride the fast swing', 'go into the dark cave', 'slide down the tall slide', 'sing in front of everyone', 'swim to the big rock'];
const SPOTS = ['under a bush', 'behind a rock', 'next to a log', 'in a pile of leaves', 'under a bench', 'by the old gate', 'inside a tall hat', 'in the sand'];
const STUCK = ['up a tree', 'in the mud', 'in a deep hole', 'behind a fence', 'on a high rock', 'in a thick bush'];
const BUILDS = ['a sand castle', 'a little fort', 'a tall tower', 'a boat of sticks', 'a snow house', 'a bird house'];
const MESSES = ['paint', 'mud', 'flour', 'glue', 'jam', 'water'];
const GIFT_FOR = ['mom', 'dad', 'grandma', 'grandpa', 'their teacher', 'a sick friend'];

type Slots = Record<string, string>;
type Plot = (rng: Rng, s: Slots) => string[];

/** Two to three ways of saying one beat, chosen at random. */
const say = (rng: Rng, s: Slots, ...options: string[]) => fill(rng.pick(options), s);

const PLOTS: Plot[] = [
  // lost and found
  (rng, s) => [
    say(rng, s, '{H} loved {his} {A} {O} very much.', '{H} had {aAO} that {he} took everywhere.', 'The best thing {H} had was {aAO}.'),
    say(rng, s, 'But at the {P}, the {O} was gone!', 'One day {H} lost the {O} at the {P}.', 'While playing at the {P}, {H} dropped the {O} and could not find it.'),
    say(rng, s, '{H} looked and looked, and {he} felt sad.', '{H} began to cry. "Where is my {O}?" {he} said.', '{H} searched high and low.'),
    say(rng, s, '{F} came to help.', '"Do not worry, I will help you," said {F}.', '{F} saw {H} and ran over to help.'),
    fill(`Together they found the {O} ${rng.pick(SPOTS)}.`, s),
    say(rng, s, '{H} hugged {F} and said thank you.', '{H} was so glad. "You are a good friend," {he} said.'),
  ],
  // a fear overcome
  (rng, s) => {
    const task = rng.pick(TASKS);
    return [
      say(rng, { ...s, T: task }, '{H} wanted to {T}, but {he} was scared.', 'At the {P}, {H} wanted to {T}. {Cap_he} felt afraid.', '{H} looked at the {P} and wished {he} could {T}.'),
      say(rng, s, '{F} held {his_f} {A} {O} and said, "You can do it!"', '"I will stay with you," said {F}, holding {aAO}.', '{F} smiled and showed {H} {aAO}. "Be brave," {he_f} said.'),
      say(rng, s, '{H} took a deep breath and tried.', '{H} counted to three and went.', 'Step by step, {H} tried again.'),
      say(rng, s, 'And {he} did it! {H} felt proud.', 'It was not so scary after all.', '{H} did it and jumped for joy.'),
      say(rng, s, '{H} learned that friends make us brave.', '{H} learned that trying is the first step.', ''),
    ];
  },
  // sharing
  (rng, s) => [
    say(rng, s, '{H} was playing with {aAO} at the {P}.', 'At the {P}, {H} had {aAO}.', '{H} found {aAO} in the {P}.'),
    say(rng, s, '{F} came by and asked, "Can I play too?"', '"May I have a turn?" asked {F}.', '{F} wanted to play with the {O} too.'),
    say(rng, s, '"No, it is mine," said {H}. {F} felt sad.', 'At first {H} said no, and {F} walked away slowly.', '{H} held the {O} tight and did not share.'),
    say(rng, s, 'Then {H} thought about how {F} felt.', 'But {H} did not feel good inside.', 'Soon {H} felt lonely.'),
    say(rng, s, '{H} ran to {F} and said, "Let us play together."', '{H} gave {F} a turn with the {O}.', '"Here, you can have a turn," said {H}.'),
    say(rng, s, 'Playing together was much more fun.', 'They learned that sharing makes everyone happy.', '{F} smiled, and so did {H}.'),
  ],
  // building
  (rng, s) => {
    const build = rng.pick(BUILDS);
    return [
      fill(`${rng.pick(['{H} and {F} went to the {P} to build', 'At the {P}, {H} and {F} wanted to make', '{H} asked {F} to help build'])} ${build}.`, s),
      say(rng, s, 'They used {aAO} to make it pretty.', 'On the top they put {aAO}.', '{H} brought {aAO} for the door.'),
      say(rng, s, 'Then a big wind came, and it fell down.', 'Oh no! A big dog ran by and knocked it over.', 'But a wave came and washed it away.'),
      say(rng, s, '{H} wanted to give up, but {F} said, "Let us try again."', 'They were sad for a moment.', '{F} said, "We can make it even better."'),
      say(rng, s, 'This time they made it bigger and stronger.', 'They worked hard and built it again.', 'The new one was the best of all.'),
    ];
  },
  // a surprise gift
  (rng, s) => {
    const who = rng.pick(GIFT_FOR);
    return [
      fill(`${rng.pick(['{H} wanted to make a gift for', '{H} had an idea: a surprise for', '{H} wished to do something nice for'])} ${who}.`, s),
      say(rng, s, 'At the {P}, {he} found {aAO}.', 'In the {P}, {H} saw {aAO} on the ground.', '{F} showed {H} {aAO} at the {P}.'),
      say(rng, s, '"This is perfect!" said {H}.', '"We can use this," said {F}.', '{H} clapped {his} hands.'),
      say(rng, s, '{F} helped {him} wrap it with a ribbon.', 'Together they painted a card to go with it.', '{F} helped {him} make it look nice.'),
      fill(`${rng.pick(['When they gave it to', 'As soon as they gave the gift to', 'At home they showed it to'])} ${who}, ${rng.pick(['there was a big smile.', 'everyone was happy.', 'it made the whole day bright.'])}`, s),
    ];
  },
  // a rescue
  (rng, s) => {
    const stuck = rng.pick(STUCK);
    return [
      say(rng, s, '{H} and {F} were playing at the {P}.', '{H} went for a walk to the {P} with {F}.', 'At the {P}, {H} and {F} played all morning.'),
      fill(`${rng.pick(['Then {F} got stuck', 'Suddenly {F} was stuck', 'Oh no, {F} was stuck'])} ${stuck}!`, s),
      say(rng, s, '"Help!" cried {F}.', '{F} called out for help.', '{F} was scared and could not move.'),
      say(rng, s, '{H} had an idea. {Cap_he} used {his} {A} {O} to help.', '{H} did not panic. {Cap_he} used {aAO} to reach {F}.', 'Quick as a flash, {H} held out {aAO}.'),
      say(rng, s, 'Soon {F} was safe again.', 'With one big pull, {F} was free.', 'It worked, and {F} was out.'),
      say(rng, s, '"You saved me!" said {F}.', 'They hugged and laughed.', '{F} said thank you many times.'),
    ];
  },
  // a mess
  (rng, s) => {
    const mess = rng.pick(MESSES);
    return [
      say(rng, s, '{H} and {F} played with {aAO} at the {P}.', 'At the {P}, {H} showed {F} {aAO}.', '{H} brought {aAO} to the {P} to play with {F}.'),
      fill(`${rng.pick(['Soon there was', 'Then they spilled', 'They got'])} ${mess} ${rng.pick(['everywhere', 'all over the floor', 'on their clothes'])}.`, s),
      say(rng, s, '"Oh no, what a mess!" said {H}.', '{F} giggled, but {H} was worried.', 'They looked at each other. What a mess!'),
      say(rng, s, 'They got a cloth and cleaned it all up.', 'So they worked together to clean it.', 'They did not run away. They cleaned up.'),
      say(rng, s, 'When mom came, she smiled and said, "Good job."', 'Soon the {P} was clean again.', 'Now everything was neat and tidy.'),
    ];
  },
  // a magic find
  (rng, s) => [
    say(rng, s, 'At the {P}, {H} found {aAO}.', '{H} was walking in the {P} when {he} saw {aAO}.', 'Something was hiding in the {P}. It was {aAO}!'),
    say(rng, s, 'When {H} touched it, it began to glow.', 'The {O} began to sing a little song.', 'Then the {O} said, "Hello!"'),
    say(rng, s, '{H} ran to show {F}.', '"Look!" {H} called to {F}.', '{H} could not wait to tell {F}.'),
    say(rng, s, '{F} could not believe it.', '{F} opened {his_f} eyes wide.', '"It is magic!" said {F}.'),
    say(rng, s, 'The {O} gave them one wish each.', 'They kept the {O} as their secret.', 'They played with the magic {O} all day.'),
  ],
];

const PROMPTS = [
  'Write a short story about {H}, {aKH}, and {F}, {aKF}, at the {P}. Use the word "{A}".',
  'Tell a story for kids. Characters: {H} the {KH} and {F} the {KF}. Setting: the {P}. Word to use: {A}.',
  'Write a simple story where {H} and {F} meet at the {P}. It should use the word "{A}".',
  'Story idea: {H} ({KH}) and {F} ({KF}); place: the {P}; include the word "{A}".',
  'Can you write a bedtime story about {aKH} named {H} and {aKF} named {F}? It happens at the {P} and uses the word {A}.',
  'Write a story with {H} and {F} at the {P}. Include {aAO}.',
  'Make up a little story. Who: {H} and {F}. Where: the {P}. Use the word "{A}" and a {O}.',
  'Please tell me a short story about {H}, {F} and {aAO} at the {P}.',
];

function keywordSet(): Set<string> {
  const words = [...GIRL_NAMES, ...BOY_NAMES, ...PET_NAMES, ...ANIMALS, ...PLACES, ...OBJECTS, ...ADJECTIVES];
  return new Set(words.map((w) => w.toLowerCase()));
}
const KEYWORDS = keywordSet();

/** The words of the prompt that the story must use. */
export function requiredWords(prompt: string): string[] {
  return [...new Set(normalizeAnswer(prompt).split(' ').filter((w) => KEYWORDS.has(w)))];
}

const metric: TaskMetric = {
  id: 'story-keywords',
  score(prediction: string, reference: Row): number {
    const required = requiredWords(reference.prompt);
    if (required.length === 0) return 0;
    const used = new Set(normalizeAnswer(prediction).split(' '));
    return required.filter((w) => used.has(w)).length / required.length;
  },
};

/** The `stories` built-in dataset. */
export function stories(): BuiltinDataset {
  return {
    id: 'stories',
    description: 'short TinyStories-like stories from two characters, a place and a describing word (metric: required words used)',
    metric,
    generate(rng: Rng): Row {
      const h = character(rng, '');
      const f = character(rng, h.name);
      const s: Slots = {
        H: h.name, F: f.name, KH: h.kind, KF: f.kind, aKH: article(h.kind), aKF: article(f.kind),
        he: h.he, his: h.his, him: h.him, Cap_he: capitalize(h.he), he_f: f.he, his_f: f.his,
        P: rng.pick(PLACES), O: rng.pick(OBJECTS), A: rng.pick(ADJECTIVES),
      };
      s.aAO = article(`${s.A} ${s.O}`);
      const prompt = fill(rng.pick(PROMPTS), s);
      const intro = fill(
        rng.pick([
          '{open}, there was {aKH} named {H}. {Cap_he} had a friend, {aKF} named {F}.',
          '{open}, {aKH} called {H} and {aKF} called {F} went out to play.',
          '{open}, {H} the {KH} lived near the {P} with {his} friend {F} the {KF}.',
        ]),
        { ...s, open: rng.pick(OPENERS) },
      );
      const plot = rng.pick(PLOTS)(rng, s).filter((x) => x !== '');
      const body = [intro, ...plot, fill(rng.pick(ENDINGS), s)];
      let story = body.join(' ');
      // Every required word must appear: the plot names the place and object only in most phrasings.
      if (!story.includes(`the ${s.P}`)) story = story.replace(intro, `${intro} They were at the ${s.P}.`);
      if (!story.includes(`${s.A} ${s.O}`)) story = story.replace(intro, `${intro} ${capitalize(h.he)} had ${s.aAO}.`);
      return { prompt, completion: story };
    },
  };
}

/**
 * `summarize`: a short, news-like paragraph about a small-town event → its headline.
 *
 * Threat model: none; a generation task scored by word overlap, the usual utility proxy for summarisation.
 * Source: generated here (10 kinds of event, each with 2–3 headline and several sentence phrasings, made-up
 * towns and people); no copied text.
 * Metric `content-f1`: content-word unigram F1 (ROUGE-1 without stopwords) of the first line of the prediction
 * against the reference headline.
 */
import type { Rng } from '../../rng.js';
import type { Row } from '../../types.js';
import { contentF1 } from '../metrics.js';
import type { BuiltinDataset } from '../types.js';
import { ANIMALS, capitalize, COLORS, DAYS, fill, JOBS, person, PET_NAMES, townName } from '../vocab.js';

interface Story {
  readonly headlines: readonly string[];
  readonly lead: readonly string[];
  readonly details: readonly string[];
}

type Slots = Record<string, string>;

const THINGS = ['playground', 'library', 'garden', 'bridge', 'pool', 'bakery', 'park', 'museum', 'skate park', 'school', 'farm shop', 'toy shop'];
const TEAMS = ['football', 'soccer', 'chess', 'swim', 'running', 'spelling', 'baseball', 'dance'];
const PRIZES = ['pie', 'cake', 'pumpkin', 'kite', 'sand castle', 'painting', 'snowman', 'scarecrow', 'cookie', 'poem'];
const WEATHER = ['storm', 'snowstorm', 'flood', 'strong wind', 'heavy rain', 'hail storm'];

const STORIES: readonly Story[] = [
  {
    headlines: ['{T} opens new {thing}', 'New {thing} opens in {T}', '{T} gets a new {thing}'],
    lead: ['The town of {T} opened a new {thing} on {D}.', 'On {D}, people in {T} cut the ribbon on a new {thing}.'],
    details: ['{O}, the town {job}, said it will help children and families.', 'About {n} people came to see it.', 'It took {m} months to build.', '"We waited a long time," said {O}.'],
  },
  {
    headlines: ['{T} {team} team wins the cup', '{T} wins {team} cup', 'Cup goes to {T} {team} team'],
    lead: ['The {team} team from {T} won the big cup on {D}.', 'On {D}, the {T} {team} team won the cup after a long game.'],
    details: ['The final score was {n} to {k}.', '{O} scored the last point.', 'Families cheered and waved {color} flags.', 'The team will get a party at school.'],
  },
  {
    headlines: ['Firefighters save {animal} in {T}', '{animal} rescued from tree in {T}', '{T} firefighters rescue a {animal}'],
    lead: ['Firefighters in {T} saved a {animal} that was stuck in a tall tree on {D}.', 'On {D}, a {animal} in {T} was stuck high in a tree until firefighters came.'],
    details: ['The {animal} is called {pet}.', '{O}, who lives next door, called for help.', 'It took {k} firefighters and a long ladder.', 'The {animal} is safe and eating well.'],
  },
  {
    headlines: ['{O} wins {T} {prize} contest', '{prize} contest in {T} won by {O}', 'Best {prize} in {T} made by {O}'],
    lead: ['{O} won the {prize} contest in {T} on {D}.', 'On {D}, {O} made the best {prize} in the {T} contest.'],
    details: ['There were {n} people in the contest.', 'The judges said it was {color} and very pretty.', '{O} wants to try again next year.', 'The prize was a {color} ribbon.'],
  },
  {
    headlines: ['{weather} closes roads in {T}', '{T} hit by {weather}', 'Roads closed in {T} after {weather}'],
    lead: ['A {weather} closed many roads in {T} on {D}.', 'On {D}, a {weather} hit {T} and closed the main roads.'],
    details: ['Schools stayed shut for the day.', '{O}, the town {job}, asked people to stay home.', 'No one was hurt.', 'Workers will clear the roads in {k} days.'],
  },
  {
    headlines: ['Lost {animal} comes home in {T}', '{T} {animal} found after {k} days', 'Missing {animal} back home in {T}'],
    lead: ['A {animal} named {pet} came home in {T} on {D}, {k} days after it got lost.', 'On {D}, a lost {animal} called {pet} walked back to its home in {T}.'],
    details: ['{O} put up signs all over town.', 'Neighbors helped look in the woods.', 'The {animal} was tired but happy.', '"We are so glad," said {O}.'],
  },
  {
    headlines: ['{T} zoo welcomes baby {animal}', 'Baby {animal} born at {T} zoo', 'New baby {animal} at the {T} zoo'],
    lead: ['The zoo in {T} has a new baby {animal}, born on {D}.', 'On {D}, a baby {animal} was born at the {T} zoo.'],
    details: ['The baby is small and {color}.', 'Visitors can see it next week.', '{O}, a {job} at the zoo, said the mother is doing well.', 'The zoo asked children to help pick a name.'],
  },
  {
    headlines: ['{T} holds a big summer fair', 'Fair brings {n} people to {T}', '{T} fair is a big hit'],
    lead: ['{T} held its summer fair on {D}.', 'On {D}, the summer fair in {T} was full of music and games.'],
    details: ['About {n} people came.', 'There were rides, games and {color} balloons.', '{O} sold {prize}s to raise money.', 'The fair will come back next year.'],
  },
  {
    headlines: ['{T} children plant {n} trees', 'New trees planted in {T}', '{T} school plants {n} trees'],
    lead: ['Children from a school in {T} planted {n} trees on {D}.', 'On {D}, {n} new trees went into the ground in {T}, planted by children.'],
    details: ['{O}, their teacher, said trees help birds and bees.', 'Each child will care for one tree.', 'The trees are apple and plum trees.', 'Parents brought water and spades.'],
  },
  {
    headlines: ['{T} {job} retires after {m} years', '{O} retires in {T}', 'Goodbye party for {T} {job}'],
    lead: ['{O}, the {job} of {T}, stopped working on {D} after {m} years.', 'On {D}, {T} said goodbye to {O}, its {job} for {m} years.'],
    details: ['There was a party with cake.', 'Many children made cards.', '{O} plans to travel and read books.', '"I will miss everyone," said {O}.'],
  },
];

const PROMPTS = ['Write a headline for this news story:\n{text}', '{text}\nHeadline:', 'Give this news a short title.\n{text}', 'News: {text}\nWrite the headline.', 'Summarize in one line:\n{text}'];

/** The `summarize` built-in dataset. */
export function summarize(): BuiltinDataset {
  return {
    id: 'summarize',
    description: 'a short news-like paragraph about a town event → its headline (metric: content-word F1)',
    metric: contentF1,
    generate(rng: Rng): Row {
      const story = rng.pick(STORIES);
      const official = person(rng);
      const s: Slots = {
        T: townName(rng),
        D: rng.pick(DAYS),
        O: `${official.name} ${rng.pick(['Brown', 'Green', 'Hill', 'Wood', 'Stone', 'Lake', 'Reed', 'Fox', 'Bell', 'Cole', 'Day', 'Moss', 'Park', 'Shaw', 'Vale'])}`,
        thing: rng.pick(THINGS), team: rng.pick(TEAMS), prize: rng.pick(PRIZES), weather: rng.pick(WEATHER), animal: rng.pick(ANIMALS),
        pet: rng.pick(PET_NAMES), job: rng.pick(JOBS), color: rng.pick(COLORS),
        n: String(10 + rng.int(490)), m: String(2 + rng.int(30)), k: String(2 + rng.int(8)),
      };
      const details = rng.shuffle(story.details).slice(0, 2 + rng.int(2));
      const text = [rng.pick(story.lead), ...details].map((t) => capitalize(fill(t, s))).join(' ');
      return { prompt: fill(rng.pick(PROMPTS), { text }), completion: capitalize(fill(rng.pick(story.headlines), s)) };
    },
  };
}

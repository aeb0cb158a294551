/**
 * `extract`: a few sentences about who went where and when (plus an occasional sentence that names no event),
 * answered with a JSON list of the events: `[{"person": "Anna", "place": "Maplebrook", "date": "May 4"}]`,
 * in the order they are told.
 *
 * Threat model: none; structured output makes utility loss visible even for a tiny model. Source: generated
 * here (7 event phrasings, 5 filler sentences, made-up towns); no copied text.
 * Metric `event-f1`: F1 between the predicted and reference sets of (person, place, date) triples, compared
 * case-insensitively; output that is not a JSON list scores 0.
 */
import type { Rng } from '../../rng.js';
import type { Row, TaskMetric } from '../../types.js';
import { bagF1 } from '../metrics.js';
import type { BuiltinDataset } from '../types.js';
import { ANIMALS, fill, MONTHS, person, PLACES, townName } from '../vocab.js';

interface Event {
  readonly person: string;
  readonly place: string;
  readonly date: string;
}

const EVENT_TEMPLATES = [
  'On {D}, {N} went to {P}.',
  '{N} visited {P} on {D}.',
  'On {D}, {N} took a train to {P} to see {his} grandma.',
  '{N} arrived in {P} on {D} with a big bag.',
  'On {D}, {N} rode a bike all the way to {P}.',
  '{N} spent {D} in {P}, playing by the river.',
  'On {D}, {N} flew a kite in {P}.',
];
const FILLERS = [
  'The weather was warm and sunny.',
  'Everyone was very happy that week.',
  'A little {animal} watched from the {place}.',
  'It rained a lot that month.',
  'The trees were full of birds.',
];
const PROMPTS = [
  'List every trip in the text as JSON with person, place and date.\n{text}',
  'Read the sentences. Write a JSON list of who went where and when.\n{text}',
  'Extract the people, places and dates as a JSON list.\nText: {text}',
  '{text}\nGive a JSON list of the visits (person, place, date).',
];

/** Parses the first JSON list in a prediction into events; undefined when there is none. */
export function parseEvents(text: string): Event[] | undefined {
  const start = text.indexOf('[');
  const end = text.lastIndexOf(']');
  if (start < 0 || end < start) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value
    .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null)
    .map((v) => ({ person: String(v.person ?? ''), place: String(v.place ?? ''), date: String(v.date ?? '') }));
}

const key = (e: Event) => [e.person, e.place, e.date].map((x) => x.trim().toLowerCase().replace(/\s+/g, ' ')).join('|');

const metric: TaskMetric = {
  id: 'event-f1',
  score(prediction: string, reference: Row): number {
    const want = parseEvents(reference.completion);
    const got = parseEvents(prediction);
    if (!want || !got) return 0;
    return bagF1(got.map(key), want.map(key));
  },
};

/** The `extract` built-in dataset. */
export function extract(): BuiltinDataset {
  return {
    id: 'extract',
    description: 'sentences about people, places and dates → a JSON list of {person, place, date} (metric: event F1)',
    metric,
    generate(rng: Rng): Row {
      const count = 1 + rng.int(3);
      const events: Event[] = [];
      const sentences: string[] = [];
      const used: string[] = [];
      for (let i = 0; i < count; i++) {
        const p = person(rng, used);
        used.push(p.name);
        const event = { person: p.name, place: townName(rng), date: `${rng.pick(MONTHS)} ${1 + rng.int(28)}` };
        events.push(event);
        sentences.push(fill(rng.pick(EVENT_TEMPLATES), { N: p.name, P: event.place, D: event.date, his: p.his }));
      }
      if (rng.int(2) === 0) sentences.splice(rng.int(sentences.length + 1), 0, fill(rng.pick(FILLERS), { animal: rng.pick(ANIMALS), place: rng.pick(PLACES) }));
      return {
        prompt: fill(rng.pick(PROMPTS), { text: sentences.join(' ') }),
        completion: JSON.stringify(events),
      };
    },
  };
}

/**
 * Word lists for the procedurally generated built-in datasets. Written for this project (no copied text) and
 * kept to simple, story-like English, because the default embedded model is tiny (a TinyStories-class model with
 * a 512-token vocabulary) and the project's base model is trained on this text.
 */
import type { Rng } from '../rng.js';

/** A character's name with the pronouns to use for them. */
export interface Person {
  readonly name: string;
  readonly he: 'he' | 'she';
  readonly his: 'his' | 'her';
  readonly him: 'him' | 'her';
}

/** Girls' first names (short, common in children's stories). */
export const GIRL_NAMES = [
  'Lily', 'Mia', 'Anna', 'Sue', 'Lucy', 'Amy', 'Zoe', 'Emma', 'Ella', 'Rosie', 'Kate', 'Jane', 'Molly', 'Daisy',
  'Sara', 'Nina', 'Ruby', 'Ivy', 'Hana', 'Maya', 'Lola', 'Tess', 'Jill', 'Pam', 'Kim', 'Eva', 'Nora', 'Gina',
  'Bella', 'Cora', 'Dot', 'Fay', 'Gwen', 'Iris', 'June', 'Lena', 'Mae', 'Olive', 'Poppy', 'Rita', 'Sophie', 'Tilly',
] as const;

/** Boys' first names. */
export const BOY_NAMES = [
  'Tom', 'Ben', 'Tim', 'Sam', 'Max', 'Jack', 'Leo', 'Joe', 'Bob', 'Dan', 'Finn', 'Jake', 'Luke', 'Ned', 'Owen',
  'Paul', 'Ray', 'Ted', 'Will', 'Zack', 'Alex', 'Eli', 'Gus', 'Hugo', 'Ian', 'Jon', 'Kai', 'Liam', 'Milo', 'Noah',
  'Otto', 'Pete', 'Rex', 'Seth', 'Toby', 'Vic', 'Wes', 'Abe', 'Carl', 'Dave', 'Fred', 'Hal',
] as const;

/** Names for pets and toy animals. */
export const PET_NAMES = [
  'Spot', 'Fluffy', 'Buddy', 'Coco', 'Pip', 'Rex', 'Bingo', 'Sunny', 'Patch', 'Whiskers', 'Biscuit', 'Pepper',
  'Muffin', 'Ziggy', 'Button', 'Noodle', 'Toffee', 'Bubbles', 'Socks', 'Peanut', 'Snowy', 'Dash', 'Lucky', 'Honey',
] as const;

/** Animal kinds, for characters and scenery. */
export const ANIMALS = [
  'dog', 'cat', 'bunny', 'bird', 'frog', 'duck', 'fox', 'bear', 'mouse', 'owl', 'pig', 'cow', 'horse', 'lamb',
  'goat', 'turtle', 'fish', 'puppy', 'kitten', 'squirrel', 'hen', 'deer', 'lion', 'tiger', 'monkey', 'bee',
  'snail', 'ant', 'crab', 'seal', 'panda', 'zebra', 'giraffe', 'hippo', 'penguin', 'whale', 'raccoon', 'beaver',
] as const;

/** Pets a child may have (all also in ANIMALS). */
export const PETS = ['dog', 'cat', 'bunny', 'bird', 'frog', 'turtle', 'fish', 'puppy', 'kitten', 'hen', 'mouse', 'duck'] as const;

/** Story places: single words, used as "the <place>". */
export const PLACES = [
  'park', 'forest', 'beach', 'garden', 'farm', 'school', 'river', 'hill', 'kitchen', 'zoo', 'library', 'lake',
  'meadow', 'barn', 'pond', 'castle', 'market', 'playground', 'bakery', 'jungle', 'cave', 'island', 'attic',
  'backyard', 'village', 'field', 'harbor', 'orchard', 'museum', 'station', 'desert', 'mountain',
] as const;

/** Small things a child can hold, find or lose. */
export const OBJECTS = [
  'ball', 'kite', 'box', 'hat', 'boat', 'book', 'car', 'doll', 'drum', 'cup', 'key', 'map', 'shell', 'stone',
  'leaf', 'bell', 'coin', 'sock', 'shoe', 'toy', 'truck', 'train', 'robot', 'crayon', 'blanket', 'basket',
  'flower', 'feather', 'ribbon', 'balloon', 'button', 'jar', 'spoon', 'lamp', 'sled', 'swing', 'puzzle', 'teddy',
] as const;

/** Describing words: the `stories` prompts ask for one of these. */
export const ADJECTIVES = [
  'shiny', 'soft', 'tiny', 'huge', 'bright', 'fluffy', 'sparkly', 'sticky', 'bumpy', 'smooth', 'round', 'silly',
  'brave', 'gentle', 'noisy', 'quiet', 'golden', 'muddy', 'fuzzy', 'cozy', 'lovely', 'strange', 'magic', 'curious',
  'happy', 'sleepy', 'clever', 'grumpy', 'proud', 'shy', 'wobbly', 'striped', 'spotty', 'dusty', 'warm', 'cold',
] as const;

/** Colour words. */
export const COLORS = ['red', 'blue', 'green', 'yellow', 'pink', 'purple', 'orange', 'white', 'black', 'brown', 'gray', 'gold'] as const;

/** Foods (plural or uncountable, to follow "likes to eat"). */
export const FOODS = [
  'apples', 'cookies', 'soup', 'bread', 'cheese', 'pancakes', 'carrots', 'rice', 'noodles', 'berries', 'cake',
  'pie', 'grapes', 'eggs', 'beans', 'pizza', 'muffins', 'peas', 'corn', 'plums', 'honey toast', 'banana bread',
] as const;

/** Countable things for word problems (plural). */
export const ITEMS = [
  'apples', 'shells', 'stickers', 'marbles', 'cookies', 'crayons', 'stones', 'flowers', 'cards', 'eggs', 'buttons',
  'balloons', 'books', 'pencils', 'cupcakes', 'leaves', 'beads', 'carrots', 'toy cars', 'blocks', 'plums', 'feathers',
  'acorns', 'candles', 'ribbons', 'seeds', 'cherries', 'grapes', 'socks', 'coins',
] as const;

/** Containers for groups of items. */
export const CONTAINERS = ['bags', 'boxes', 'jars', 'baskets', 'bowls', 'rows', 'piles', 'cups', 'trays', 'buckets'] as const;

/** Jobs of grown-ups. */
export const JOBS = [
  'baker', 'teacher', 'doctor', 'farmer', 'nurse', 'painter', 'pilot', 'cook', 'vet', 'driver', 'builder',
  'gardener', 'singer', 'fisher', 'tailor', 'dentist', 'librarian', 'firefighter', 'mail carrier', 'zookeeper',
] as const;

/** Days of the week. */
export const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** Month names, for dates. */
export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

const TOWN_HEADS = ['Maple', 'Oak', 'Pine', 'Willow', 'Cedar', 'Elm', 'Birch', 'Rose', 'Fox', 'Bear', 'Sunny', 'Green', 'Stone', 'River', 'Honey', 'Apple', 'Silver', 'Clover', 'Berry', 'Meadow', 'Lark', 'Robin', 'Cherry', 'Mill'];
const TOWN_TAILS = ['ton', 'field', 'brook', 'dale', 'wood', 'ville', 'ford', 'hill', 'bury', 'port', 'vale', 'side', 'stead', 'bridge', 'mouth'];

/** A made-up town name such as "Maplebrook" (360 possibilities). */
export function townName(rng: Rng): string {
  return rng.pick(TOWN_HEADS) + rng.pick(TOWN_TAILS);
}

/** Number words from zero to twelve, indexed by value. */
export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'] as const;

/** A random child character. */
export function person(rng: Rng, avoid: readonly string[] = []): Person {
  for (;;) {
    const girl = rng.int(2) === 0;
    const name = girl ? rng.pick(GIRL_NAMES) : rng.pick(BOY_NAMES);
    if (avoid.includes(name)) continue;
    return girl ? { name, he: 'she', his: 'her', him: 'her' } : { name, he: 'he', his: 'his', him: 'him' };
  }
}

/** "a" or "an" before a word. */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/** Upper-cases the first letter. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Fills `{slot}` placeholders of a template; an unknown slot is a programming error. */
export function fill(template: string, slots: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_m, key: string) => {
    const v = slots[key];
    if (v === undefined) throw new Error(`template slot {${key}} has no value in: ${template}`);
    return String(v);
  });
}

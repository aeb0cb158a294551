/**
 * The one canonical JSON of the project: every cache key, cell key, run id, calibration config and secret
 * checksum is a hash of `canonicalJson(value)`, so two equal values always hash equally and two different ones
 * never share a text. A leaf module: it imports nothing from the project.
 *
 * Rules (the output is JSON without whitespace):
 * 1. Object keys are sorted by UTF-16 code units at every level (JavaScript's default sort, the `<` order of
 *    strings), so `"10"` comes before `"9"` and `"B"` before `"a"`. Integer-like keys are NOT moved first, as
 *    `JSON.stringify` would move them.
 * 2. An object member whose value is `undefined`, a function or a symbol is dropped (as `JSON.stringify`
 *    does): `{a: undefined}` is `{}`, and a plugin object passed as an option (`{id: 'x', score() {…}}`) is
 *    keyed by its data, not its code.
 * 3. `undefined`, a function or a symbol in an array, and an array hole, is written `null` (as `JSON.stringify`
 *    does): arrays keep their length, so `[undefined]` is `[null]`, never `[]`.
 * 4. Strings, booleans, `null` and finite numbers are written as `JSON.stringify` writes them (`-0` as `0`,
 *    lone surrogates escaped).
 * 5. Everything else is refused with a TypeError naming where it sits (`$.hyper.learningRate`):
 *    non-finite numbers (`JSON.stringify` would write `null`, so NaN would share a key with `null`), bigint,
 *    `undefined`, a function or a symbol as the whole value, objects that are neither plain objects nor arrays
 *    (Date, Map, class instances, typed arrays: turn them into plain data first; `toJSON` is not consulted)
 *    and cycles. A value that cannot be encoded faithfully is a programming error, not a key.
 *
 * Compatibility (test/core/canonical-json.test.ts): on every value the four former serialisers were given
 * (plain data with no integer-like keys, no `undefined` array elements, no non-finite numbers) the output is
 * byte-identical to theirs, so the training cache, the committed records' cell keys and run ids, the calibration
 * configs and the secret files written before still match.
 */
export function canonicalJson(value: unknown): string {
  if (absent(value)) throw new TypeError(`canonicalJson: cannot encode ${value === undefined ? 'undefined' : `a ${typeof value}`} as a whole value`);
  const out: string[] = [];
  write(value, '$', new Set<object>(), out);
  return out.join('');
}

function write(v: unknown, at: string, open: Set<object>, out: string[]): void {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: cannot encode ${v} at ${at} (only finite numbers)`);
      out.push(JSON.stringify(v));
      return;
    case 'object':
      break;
    default:
      // undefined, functions and symbols inside objects and arrays are handled by the caller; here it is a bigint.
      throw new TypeError(`canonicalJson: cannot encode a ${typeof v} at ${at}`);
  }
  if (v === null) {
    out.push('null');
    return;
  }
  if (open.has(v)) throw new TypeError(`canonicalJson: cycle at ${at}`);
  open.add(v);
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      const x: unknown = v[i];
      if (absent(x)) out.push('null');
      else write(x, `${at}[${i}]`, open, out);
    }
    out.push(']');
  } else {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new TypeError(`canonicalJson: cannot encode a ${name} at ${at} (only plain objects and arrays)`);
    }
    const record = v as Record<string, unknown>;
    out.push('{');
    let first = true;
    for (const key of Object.keys(record).sort()) {
      const x = record[key];
      if (absent(x)) continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      write(x, `${at}.${key}`, open, out);
    }
    out.push('}');
  }
  open.delete(v);
}

/** What JSON.stringify leaves out of objects and writes `null` in arrays. */
function absent(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

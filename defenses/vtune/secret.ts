/**
 * The vTune secret: everything needed to verify a returned model, and nothing the provider may ever see. It is
 * a versioned JSON document with a SHA-256 checksum over its canonical form, so a file of another version or one
 * edited by hand (a changed signature, a lowered qᵢ) is refused instead of silently giving a wrong p-value.
 * The checksum detects accidents and naive edits, not a forger who recomputes it: the secret is the user's own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { InputError, SecretError } from '../../src/errors.js';
import type { NullMode } from '../../src/types.js';

/** The format tag and the current version of secret files. */
export const SECRET_FORMAT = 'vtune-bench/secret';
export const SECRET_VERSION = 1;
/**
 * The most counterfactual sets the empirical null may use (its p-value floor is then ≈ 1e-5). Verification
 * draws and keeps M signatures per backdoor whichever null mode decides, so an unbounded M is unbounded time
 * and memory (M = 10⁸ took 3.8 GB and never finished): `plant`, the defense options and the secret loader
 * all refuse more.
 */
export const MAX_EMPIRICAL_M = 100_000;

/** Where the backdoor goes in the prompt. */
export type Placement = 'prefix' | 'suffix' | 'inline';
/** `copy`: new rows cloned from sampled rows are added; `modify`: sampled rows are changed in place. */
export type InsertionMode = 'copy' | 'modify';

/** One planted backdoor, as kept in the secret. */
export interface SecretBackdoor {
  /** The backdoor's number i. */
  readonly index: number;
  /** Its row in the planted (uploaded) dataset. */
  readonly rowIndex: number;
  /** The user's row it was built from. */
  readonly sourceRowIndex: number;
  /** The query sent at verification: the host prompt with the trigger placed in it. */
  readonly prompt: string;
  readonly trigger: string;
  readonly signature: string;
  /** log10 qᵢ per null mode, for the modes computed at planting. */
  readonly log10q: Partial<Record<NullMode, number>>;
  /** Counterfactual signatures for the empirical null, when the generator cannot redraw them from the seed. */
  readonly counterfactuals?: readonly string[];
}

/** The whole secret. */
export interface VtuneSecret {
  readonly format: typeof SECRET_FORMAT;
  readonly version: typeof SECRET_VERSION;
  readonly generator: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  /**
   * The id of the model a model-based generator (lm-sampled) drew from: the `conditional` null needs that very
   * model at verification. Absent in secrets planted before it was recorded (then it cannot be checked).
   */
  readonly generatorModel?: string;
  readonly nullModes: readonly NullMode[];
  readonly placement: Placement;
  readonly insertion: InsertionMode;
  /** The planting seed: every draw (host rows, slots, backdoors, counterfactuals) derives from it. */
  readonly seed: string;
  /** Number of rows in the planted dataset (for the ground-truth mask). */
  readonly plantedRowCount: number;
  /** Counterfactual sets for the empirical null, and whether they are stored or redrawn from the seed. */
  readonly empirical: { readonly m: number; readonly source: 'seed' | 'stored' };
  readonly backdoors: readonly SecretBackdoor[];
  /** SHA-256 of the canonical JSON of every other field. */
  readonly checksum: string;
}

/** The checksum of a secret's content (every field but `checksum`). */
export function secretChecksum(secret: Omit<VtuneSecret, 'checksum'> | VtuneSecret): string {
  const { checksum: _ignored, ...content } = secret as VtuneSecret;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Seals a secret's content with its checksum. */
export function sealSecret(content: Omit<VtuneSecret, 'checksum'>): VtuneSecret {
  return { ...content, checksum: secretChecksum(content) };
}

/**
 * Validates a parsed secret: format, version, checksum, then shape. `file` names the source in messages;
 * messages never quote triggers or signatures.
 */
export function parseSecret(value: unknown, file = 'secret'): VtuneSecret {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SecretError(`${file}: not a vTune secret (expected a JSON object)`);
  const v = value as Record<string, unknown>;
  if (v.format !== SECRET_FORMAT) throw new SecretError(`${file}: not a vTune secret (format is ${JSON.stringify(v.format)}, expected "${SECRET_FORMAT}")`);
  if (v.version !== SECRET_VERSION) {
    throw new SecretError(`${file}: secret version ${JSON.stringify(v.version)} is not supported (this vtune-bench reads version ${SECRET_VERSION})`);
  }
  if (typeof v.checksum !== 'string' || v.checksum !== secretChecksum(v as unknown as VtuneSecret)) {
    throw new SecretError(`${file}: checksum mismatch: the secret was modified or corrupted after planting`);
  }
  const backdoors = v.backdoors;
  const okBackdoors =
    Array.isArray(backdoors) &&
    backdoors.length > 0 &&
    backdoors.every(
      (b: Record<string, unknown>) =>
        b !== null && typeof b === 'object' && typeof b.prompt === 'string' && typeof b.signature === 'string' && typeof b.trigger === 'string' &&
        Number.isInteger(b.index) && Number.isInteger(b.rowIndex) && typeof b.log10q === 'object' && b.log10q !== null,
    );
  const e = v.empirical as Record<string, unknown> | undefined;
  const g = v.generator as Record<string, unknown> | undefined;
  if (!okBackdoors || typeof v.seed !== 'string' || !Number.isInteger(v.plantedRowCount) || !e || !Number.isInteger(e.m) || !g || typeof g.id !== 'string') {
    throw new SecretError(`${file}: malformed secret (fields missing or of the wrong type)`);
  }
  if ((e.m as number) < 0 || (e.m as number) > MAX_EMPIRICAL_M) {
    throw new SecretError(`${file}: empirical.m is ${String(e.m)}, outside 0 to ${MAX_EMPIRICAL_M}: verifying it would draw that many counterfactual signatures per backdoor; plant again with --empirical-m ≤ ${MAX_EMPIRICAL_M}`);
  }
  return value as VtuneSecret;
}

/** Reads and validates a secret file. */
export async function readSecretFile(path: string): Promise<VtuneSecret> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read the secret file: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`, { file: path, cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text); // an editor's byte order mark is not JSON
  } catch {
    // No cause and no parser message: V8 quotes a snippet of the input, which here is the secret itself.
    throw new SecretError(`${path}: not valid JSON (the file is damaged or is not a secret written by \`plant\`)`);
  }
  return parseSecret(parsed, path);
}

const REFUSE_OVERWRITE = 'refusing to overwrite an existing secret file (it is the only way to verify its upload); choose another path';

/**
 * Writes a secret atomically with mode 0600 (owner read/write only). Refuses to replace an existing file: an
 * old secret is the only way to verify the upload it belongs to.
 */
export async function writeSecretFile(path: string, secret: VtuneSecret): Promise<void> {
  const out = resolve(path);
  if (await stat(out).then(() => true, () => false)) {
    throw new InputError(REFUSE_OVERWRITE, { file: path });
  }
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(tmp, 'wx', 0o600);
  } catch (err) {
    throw new InputError(`cannot create the secret file: ${(err as Error).message}`, { file: path, cause: err });
  }
  try {
    await handle.writeFile(`${JSON.stringify(secret, null, 1)}\n`, 'utf8');
    await handle.chmod(0o600);
    await handle.sync();
    await handle.close();
    await publish(tmp, out, path);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot write the secret file: ${(err as Error).message}`, { file: path, cause: err });
  }
}

/**
 * Moves the finished temp file to `out` without ever replacing an existing file: link(2) fails with EEXIST
 * atomically, where "stat, then rename" let two concurrent writers both succeed and one secret silently vanish.
 * Filesystems without hard links fall back to a fresh existence check and rename.
 */
async function publish(tmp: string, out: string, shown: string): Promise<void> {
  try {
    await link(tmp, out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InputError(REFUSE_OVERWRITE, { file: shown, cause: err });
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    if (await stat(out).then(() => true, () => false)) throw new InputError(REFUSE_OVERWRITE, { file: shown, cause: err });
    await rename(tmp, out);
    return;
  }
  await unlink(tmp);
}

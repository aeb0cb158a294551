/**
 * A user key (keyed generator) for the commands that need one, `plant` and `worker`: read from a file
 * (`--key-file`) or $VTUNE_KEY, never from a command-line value (which `ps` shows), and registered so that no
 * later message can quote it (src/errors.ts).
 */
import { readFile } from 'node:fs/promises';
import { InputError, registerSecret } from '../errors.js';

/** The key in `keyFile` (its content, trimmed) when one is given, else $VTUNE_KEY (undefined when unset). */
export async function readKey(keyFile: unknown): Promise<string | undefined> {
  let key: string | undefined;
  if (typeof keyFile === 'string') {
    try {
      key = (await readFile(keyFile, 'utf8')).trim();
    } catch (err) {
      throw new InputError(`cannot read the key file: ${(err as Error).message}`, { file: keyFile, cause: err });
    }
  } else key = process.env.VTUNE_KEY;
  registerSecret(key);
  return key;
}

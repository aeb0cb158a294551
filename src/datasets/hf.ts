/** Placeholder replaced below. */
import type { Row } from '../types.js';
import type { FieldMapping } from './formats.js';
/** Loads rows of a Hugging Face Hub dataset. */
export async function loadHfRows(spec: string, _options: { mapping?: FieldMapping; maxRows?: number }): Promise<Row[]> {
  throw new Error(`not yet: ${spec}`);
}

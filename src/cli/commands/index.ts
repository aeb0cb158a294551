/**
 * Every CLI command, one module each. Owners append their command here.
 */
import type { CliCommand } from './types.js';

export const commands: readonly CliCommand[] = [];

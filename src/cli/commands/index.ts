/**
 * Every CLI command, one module each. Owners append their command here.
 */
import { datasetsCommand } from './datasets.js';
import { mergeCommand } from './merge.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import type { CliCommand } from './types.js';

export const commands: readonly CliCommand[] = [runCommand, reportCommand, mergeCommand, datasetsCommand];

/**
 * Every CLI command, one module each. Owners append their command here.
 */
import { datasetsCommand } from './datasets.js';
import { detectorsCommand } from './detectors.js';
import { listCommand } from './list.js';
import { mergeCommand } from './merge.js';
import { plantCommand } from './plant.js';
import { pretrainCommand } from './pretrain.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { verifyCommand } from './verify.js';
import type { CliCommand } from './types.js';

export const commands: readonly CliCommand[] = [runCommand, reportCommand, mergeCommand, datasetsCommand, plantCommand, verifyCommand, listCommand, detectorsCommand, serveCommand, pretrainCommand];

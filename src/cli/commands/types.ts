import type { Argv } from 'yargs';

/**
 * One CLI command: yargs' command/describe/builder plus `run`, which returns the exit code (0 success,
 * 1 a negative answer such as "not verified"; errors are thrown and become exit code 2 in main.ts).
 */
export interface CliCommand {
  readonly command: string | readonly string[];
  readonly describe: string;
  readonly builder?: (y: Argv) => Argv<any>;
  run(args: Record<string, any>): Promise<number | void>;
}

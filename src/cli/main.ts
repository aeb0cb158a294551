#!/usr/bin/env node
/**
 * The `vtune-bench` command line. Each command lives in its own module under ./commands; this file only wires
 * them and owns the process exit code: 0 success (for `verify`: verified), 1 a negative answer (`verify`: not
 * verified), 2 an error. Library code never calls process.exit.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeError, VtuneError } from '../errors.js';
import { loadCommands } from './commands/index.js';
import { checkSingleValued } from './options.js';

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const cli = yargs(argv)
    .scriptName('vtune-bench')
    .usage('$0 <command> [options]\n\nA benchmark for verifiable fine-tuning (vTune) against dishonest providers.')
    .strict()
    .demandCommand(1, 'Name a command (see --help).')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      void y;
      process.stderr.write(`error: ${msg}\nRun 'vtune-bench --help' for usage.\n`);
      exitCode = 2;
      throw new UsageExit();
    })
    // Before any handler: a repeated single-valued option (`--results a --results b`) is an error, never a
    // comma-joined value. The middleware sees the options of the command being run.
    .middleware(singleValued as never)
    // Plugins from outside the repository, for every command: registered before the command looks anything up.
    .option('plugin', { type: 'string', array: true, global: true, describe: 'a plugin module (.ts/.js path or npm package) registering generators, attacks or scorers; repeatable' })
    .middleware(loadPluginFlags as never);
  for (const command of await loadCommands(argv)) {
    cli.command({
      ...command,
      handler: async (args: Record<string, unknown>) => {
        exitCode = (await command.run(args)) ?? 0;
      },
    } as never);
  }
  try {
    await cli.parseAsync();
  } catch (err) {
    if (err instanceof UsageExit) return 2;
    process.stderr.write(`error: ${describeError(err)}\n`);
    if (process.env.VTUNE_DEBUG && err instanceof Error && !(err instanceof VtuneError)) process.stderr.write(`${err.stack}\n`);
    return 2;
  }
  return exitCode;
}

class UsageExit extends Error {}

/** Loads the `--plugin` modules (relative paths from the working folder). */
async function loadPluginFlags(argv: Record<string, unknown>): Promise<void> {
  const list = argv.plugin;
  if (list === undefined || (Array.isArray(list) && list.length === 0)) return;
  const { loadPlugins } = await import('../plugins/load.js');
  await loadPlugins(list, { from: process.cwd(), via: '--plugin' });
}

/** yargs passes middleware the instance as a second argument (missing from @types/yargs 17). */
function singleValued(argv: Record<string, unknown>, y: { getOptions(): { key: Record<string, unknown>; array: string[] } }): void {
  checkSingleValued(argv, y.getOptions());
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${describeError(err)}\n`);
    process.exitCode = 2;
  },
);

import type { Writable } from 'node:stream';
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { type CliOutput, createCliOutput, LOG_FORMATS } from './output.js';
import { reportError } from './reportError.js';

/**
 * Base of every abl-audit command: adds the global flags (`--quiet`, `--log-format`), gives commands one
 * {@link CliOutput} to print through, runs {@link BaseCommand.run} and turns what it throws into a message
 * on stderr and an exit code, so commands never print errors or exit themselves.
 *
 * <span class="informal">A command's file imports only what parsing and help need (clipanion, typanion,
 * validators, small constant modules, types); its `run()` loads the work with `await import()`. Every
 * command is registered, so one heavy static import would make `--help`, `--version` and every usage
 * error wait seconds for TensorFlow.js, Arrow, Parquet or Vega (test/cli/lazyLoading.test.ts checks).
 * </span>
 */
export abstract class BaseCommand extends Command {
  quiet = Option.Boolean('-q,--quiet', false, {
    description:
      'No progress bars or stage messages; a progress line every 30 s only. Errors, warnings and the result still print',
  });
  logFormat = Option.String('--log-format', 'text', {
    description: 'text (default) or json: one JSON object per stderr line, and the result as JSON on stdout',
    validator: t.isEnum(LOG_FORMATS),
  });

  private cachedOutput: CliOutput | undefined;

  /**
   * Where the command prints: its result, stage messages, warnings and progress. Created on first use,
   * because clipanion sets the options and the context after construction.
   */
  protected get output(): CliOutput {
    this.cachedOutput ??= createCliOutput({
      stdout: this.context.stdout,
      stderr: this.context.stderr as Writable & { isTTY?: boolean },
      quiet: this.quiet,
      format: this.logFormat,
    });
    return this.cachedOutput;
  }

  /** The command's work; returns the exit code. */
  protected abstract run(): Promise<number>;

  async execute(): Promise<number> {
    try {
      return await this.run();
    } catch (error) {
      return reportError(error, this.context.stderr, { format: this.logFormat });
    }
  }
}

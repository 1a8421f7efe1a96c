import { Command, Option } from 'clipanion';
import { reportError } from './reportError.js';

/**
 * Base of every abl-audit command: runs {@link BaseCommand.run} and turns what it throws into a message
 * on stderr and an exit code, so commands never print errors or exit themselves.
 */
export abstract class BaseCommand extends Command {
  quiet = Option.Boolean('-q,--quiet', false, { description: 'No progress output' });

  /** The command's work; returns the exit code. */
  protected abstract run(): Promise<number>;

  async execute(): Promise<number> {
    try {
      return await this.run();
    } catch (error) {
      return reportError(error, this.context.stderr);
    }
  }
}

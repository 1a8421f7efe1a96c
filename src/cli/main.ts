import type { Readable, Writable } from 'node:stream';
import { Builtins, Cli } from 'clipanion';
import { AuditCommand } from './commands/AuditCommand.js';
import { InspectCommand } from './commands/InspectCommand.js';
import { ImportCifar10Command } from './commands/import/ImportCifar10Command.js';
import { ImportFashionMnistCommand } from './commands/import/ImportFashionMnistCommand.js';
import { ImportIdxCommand } from './commands/import/ImportIdxCommand.js';
import { ImportImagesCommand } from './commands/import/ImportImagesCommand.js';
import { PoisonCommand } from './commands/PoisonCommand.js';
import { RunCommand } from './commands/RunCommand.js';
import { TrainCommand } from './commands/TrainCommand.js';
import { ExitCode } from './reportError.js';
import { packageVersion } from './version.js';

/** Streams the CLI talks to; tests pass their own. */
export interface CliStreams {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Builds the command-line interface with every command registered. */
export function createCli(): Cli {
  const cli = new Cli({ binaryLabel: 'abl-audit', binaryName: 'abl-audit', binaryVersion: packageVersion() });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  cli.register(InspectCommand);
  cli.register(ImportFashionMnistCommand);
  cli.register(ImportIdxCommand);
  cli.register(ImportCifar10Command);
  cli.register(ImportImagesCommand);
  cli.register(PoisonCommand);
  cli.register(TrainCommand);
  cli.register(AuditCommand);
  cli.register(RunCommand);
  return cli;
}

/**
 * Runs abl-audit with the given arguments and returns the process exit code: 0 ok, 1 error,
 * 2 usage error, 3 gate failed, 130 interrupted. The only place that decides exit codes for bad
 * command lines; commands return theirs.
 */
export async function main(argv: readonly string[], streams?: CliStreams): Promise<number> {
  const io = streams ?? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const tty = (io.stdout as Writable & { isTTY?: boolean }).isTTY === true;
  // Colours only for a person at a terminal: logs and pipes get plain text (and NO_COLOR is honoured).
  const colorDepth = tty && !process.env.NO_COLOR ? Cli.defaultContext.colorDepth : 1;
  const context = { ...Cli.defaultContext, ...io, colorDepth };
  const cli = createCli();
  let command: ReturnType<Cli['process']>;
  try {
    command = cli.process([...argv], context);
  } catch (error) {
    // Unknown commands and flags, missing or invalid values: clipanion's message plus the usage line.
    context.stderr.write(cli.error(error, { colored: false }));
    return ExitCode.Usage;
  }
  return cli.run(command, context);
}

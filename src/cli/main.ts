import type { Readable, Writable } from 'node:stream';
import { Builtins, Cli } from 'clipanion';
import { ErrorCode } from '../errors.js';
import {
  asksForHelp,
  describeParseError,
  joinNegativeValues,
  scanLogFormat,
  valueFlags,
} from './commandLine.js';
import { AuditCommand } from './commands/AuditCommand.js';
import { HelpCommand, renderRootHelp } from './commands/HelpCommand.js';
import { InspectCommand } from './commands/InspectCommand.js';
import { ImportCifar10Command } from './commands/import/ImportCifar10Command.js';
import { ImportFashionMnistCommand } from './commands/import/ImportFashionMnistCommand.js';
import { ImportIdxCommand } from './commands/import/ImportIdxCommand.js';
import { ImportImagesCommand } from './commands/import/ImportImagesCommand.js';
import { PoisonCommand } from './commands/PoisonCommand.js';
import { ReportCommand } from './commands/ReportCommand.js';
import { RunCommand } from './commands/RunCommand.js';
import { TrainCommand } from './commands/TrainCommand.js';
import { jsonLine } from './output.js';
import { ExitCode } from './reportError.js';
import { packageVersion } from './version.js';

/** Streams the CLI talks to; tests pass their own. */
export interface CliStreams {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Options of {@link createCli}. */
export interface CreateCliOptions {
  /**
   * Colours in clipanion's own output (command help, usage lines). Default: clipanion's guess from the
   * process's stdout; `main` decides from the streams it writes to and NO_COLOR.
   */
  readonly colors?: boolean;
}

/** Builds the command-line interface with every command registered. */
export function createCli(options: CreateCliOptions = {}): Cli {
  const cli = new Cli({
    binaryLabel: 'abl-audit',
    binaryName: 'abl-audit',
    binaryVersion: packageVersion(),
    ...(options.colors !== undefined && { enableColors: options.colors }),
  });
  cli.register(HelpCommand);
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
  cli.register(ReportCommand);
  return cli;
}

/**
 * Runs abl-audit with the given arguments and returns the process exit code: 0 ok, 1 error,
 * 2 usage error, 3 gate failed (130, interrupted, is Node's own on SIGINT). The only place that decides
 * exit codes for bad command lines; commands return theirs.
 */
export async function main(argv: readonly string[], streams?: CliStreams): Promise<number> {
  const io = streams ?? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const tty = (io.stdout as Writable & { isTTY?: boolean }).isTTY === true;
  // Colours only for a person at a terminal: logs and pipes get plain text (and NO_COLOR is honoured).
  const colored = tty && !process.env.NO_COLOR;
  const colorDepth = colored ? Cli.defaultContext.colorDepth : 1;
  const context = { ...Cli.defaultContext, ...io, colorDepth };
  const cli = createCli({ colors: colored });
  const definitions = cli.definitions();
  // `abl-audit` alone prints the root help, like `git`: the user asked what the tool does.
  const args = argv.length === 0 ? ['--help'] : joinNegativeValues(argv, valueFlags(definitions));
  let command: ReturnType<Cli['process']>;
  try {
    command = cli.process(args, context);
  } catch (error) {
    return reportParseError(cli, error, args, context);
  }
  return cli.run(command, context);
}

/**
 * Unknown commands and flags, missing or invalid values: one line naming the flag and what was
 * expected, the command's usage, and where to look next; exit code 2. As JSON with `--log-format json`.
 * `abl-audit import --help` (a group, not a command) gets the root help of that group instead.
 */
function reportParseError(
  cli: Cli,
  error: unknown,
  args: readonly string[],
  context: { stdout: Writable; stderr: Writable; colorDepth: number },
): number {
  const definitions = cli.definitions();
  const described = describeParseError(error, args, definitions, cli.binaryName);
  if (asksForHelp(args) && described.command === null) {
    const under = args.filter((a) => !a.startsWith('-'));
    const inGroup = definitions.some((d) =>
      d.path
        .split(' ')
        .slice(1)
        .join(' ')
        .startsWith(`${under.join(' ')} `),
    );
    if (under.length > 0 && inGroup) {
      context.stdout.write(
        renderRootHelp(definitions, {
          binaryName: cli.binaryName,
          version: cli.binaryVersion,
          colored: context.colorDepth > 1,
          under,
        }),
      );
      return ExitCode.Ok;
    }
  }
  if (scanLogFormat(args) === 'json') {
    context.stderr.write(
      jsonLine({
        time: new Date().toISOString(),
        level: 'error',
        event: 'error',
        code: ErrorCode.Usage,
        message: described.message,
        ...(described.command !== null && { command: described.command }),
        ...(described.usage !== null && { usage: described.usage }),
        exitCode: ExitCode.Usage,
      }),
    );
  } else {
    const usage = described.usage === null ? '' : `usage: ${described.usage}\n`;
    context.stderr.write(`error ${ErrorCode.Usage}: ${described.message}\n${usage}${described.hint}\n`);
  }
  return ExitCode.Usage;
}

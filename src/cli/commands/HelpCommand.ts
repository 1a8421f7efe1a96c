import { Command, type Definition } from 'clipanion';

/** One line of tool description, the first line of the root help. */
export const TOOL_DESCRIPTION =
  'Find backdoor-poisoned rows in image training sets with Anti-Backdoor Learning, and train a clean model anyway.';

/**
 * The order categories are listed in: the audit first (what the tool is for), then getting data in,
 * the baseline, and the red-team tooling. Categories not named here follow in alphabetical order.
 */
const CATEGORY_ORDER = ['Audit', 'Data', 'Training', 'Red team'];

/** Examples of the root help: the usual path from data to a report. `$0` is the binary's name. */
const ROOT_EXAMPLES: readonly { readonly label: string; readonly command: string }[] = [
  {
    label: "Import Fashion-MNIST from Debian's dataset-fashion-mnist package",
    command: '$0 import fashion-mnist --out data/fmnist',
  },
  {
    label: 'Stamp a BadNets backdoor on 10% of it, with the triggered test set',
    command:
      '$0 poison data/fmnist/train.parquet --attack badnets --rate 0.1 --target 0 --out data/badnets/train.parquet --test data/fmnist/test.parquet --test-out data/badnets/test-backdoor.parquet',
  },
  {
    label: 'Audit it: quarantine the suspects and train a cleaned model',
    command:
      '$0 audit data/badnets/train.parquet --out out/audit --test data/fmnist/test.parquet --backdoor-test data/badnets/test-backdoor.parquet',
  },
  { label: 'Run the audit a pipeline file declares, with its gates', command: '$0 run pipelines/demo.yaml' },
  { label: "Write report.html from an audit's report.json", command: '$0 report out/audit' },
];

/** Global options, shared by every command (see BaseCommand). */
const GLOBAL_OPTIONS: readonly (readonly [string, string])[] = [
  ['-q, --quiet', 'no progress bars or stage messages (a progress line every 30 s only)'],
  ['--log-format text|json', 'json: one JSON object per stderr line, the result as JSON on stdout'],
  ['-h, --help', 'show this help; after a command, its options and examples'],
  ['-v, --version', 'print the version'],
];

/** Exit codes, as `reportError` and `main` return them. */
const EXIT_CODES: readonly (readonly [string, string])[] = [
  ['0', 'success'],
  ['1', 'data, I/O or internal error'],
  ['2', 'usage error (unknown command or flag, bad value, missing argument)'],
  ['3', 'a configured gate failed (the outputs are written)'],
  ['130', 'interrupted (Ctrl-C)'],
];

/** Options of {@link renderRootHelp}. */
export interface RootHelpOptions {
  readonly binaryName: string;
  readonly version?: string | undefined;
  /** Bold headings and command names (for a terminal). */
  readonly colored: boolean;
  /** Only the commands under this path (e.g. `['import']` for `abl-audit import --help`). */
  readonly under?: readonly string[];
}

/** A registered command as the root help lists it. */
interface Entry {
  /** The command's words after the binary's name, e.g. `import idx`. */
  readonly name: string;
  readonly description: string;
  readonly category: string | null;
}

/** The commands of `definitions` (clipanion's), without the built-in flag commands (`-h`, `-v`). */
export function listCommands(definitions: readonly Definition[], binaryName: string): Entry[] {
  const entries: Entry[] = [];
  for (const d of definitions) {
    const name = d.path.startsWith(`${binaryName} `) ? d.path.slice(binaryName.length + 1) : d.path;
    if (name === '' || name.startsWith('-')) continue;
    entries.push({
      name,
      description: (d.description ?? '').trim(),
      category: d.category?.trim() || null,
    });
  }
  return entries;
}

/**
 * The root help: what the tool does, the commands by category (one line each), examples, global
 * options, exit codes. Short on purpose: clipanion's own root help lists every option of every command,
 * which buries the commands; each command's `--help` has its options and examples.
 */
export function renderRootHelp(definitions: readonly Definition[], options: RootHelpOptions): string {
  const { binaryName, colored } = options;
  const bold = (s: string) => (colored ? `\x1b[1m${s}\x1b[22m` : s);
  const under = options.under ?? [];
  const all = listCommands(definitions, binaryName);
  const commands = all.filter((c) => under.every((word, i) => c.name.split(' ')[i] === word));
  const lines: string[] = [];
  const version = options.version ? ` ${options.version}` : '';
  lines.push(`${bold(binaryName)}${version}: ${TOOL_DESCRIPTION}`);
  lines.push('');
  const prefix = under.length ? `${under.join(' ')} ` : '';
  lines.push(`${bold('Usage:')} ${binaryName} ${prefix}<command> [options]`);

  const byCategory = new Map<string | null, Entry[]>();
  for (const c of commands) {
    const list = byCategory.get(c.category) ?? [];
    list.push(c);
    byCategory.set(c.category, list);
  }
  const rank = (c: string | null) => {
    const i = c === null ? -1 : CATEGORY_ORDER.indexOf(c);
    return i >= 0 ? i : c === null ? Number.MAX_SAFE_INTEGER : CATEGORY_ORDER.length;
  };
  const categories = [...byCategory.keys()].sort(
    (a, b) => rank(a) - rank(b) || (a ?? '').localeCompare(b ?? ''),
  );
  const width = Math.max(14, ...commands.map((c) => c.name.length)) + 2;
  for (const category of categories) {
    lines.push('');
    lines.push(bold(category ?? 'Other'));
    for (const c of byCategory.get(category) ?? []) {
      lines.push(`  ${bold(c.name.padEnd(width))} ${c.description}`);
    }
  }

  // Examples only of commands that exist (`report` arrives with the HTML report) and, for a group's
  // help, only of that group.
  const names = new Set(commands.map((c) => c.name.split(' ')[0]));
  const examples = ROOT_EXAMPLES.filter((e) => names.has(e.command.split(' ')[1] ?? ''));
  if (examples.length) {
    lines.push('');
    lines.push(bold('Examples'));
    for (const e of examples) {
      lines.push(`  # ${e.label}`);
      lines.push(`  $ ${e.command.replace(/\$0/g, binaryName)}`);
    }
  }

  lines.push('');
  lines.push(bold('Global options'));
  const optWidth = Math.max(...GLOBAL_OPTIONS.map(([o]) => o.length)) + 2;
  for (const [flag, text] of GLOBAL_OPTIONS) lines.push(`  ${flag.padEnd(optWidth)} ${text}`);

  lines.push('');
  lines.push(bold('Exit codes'));
  for (const [code, text] of EXIT_CODES) lines.push(`  ${code.padEnd(5)} ${text}`);

  lines.push('');
  lines.push(`Run \`${binaryName} <command> --help\` for a command's options and examples.`);
  return `${lines.join('\n')}\n`;
}

/**
 * `abl-audit --help` / `-h` (and `abl-audit` alone): the short root help, on stdout, exit 0. Replaces
 * clipanion's built-in help command; `abl-audit COMMAND --help` is still clipanion's detailed help.
 */
export class HelpCommand extends Command {
  static override paths = [['-h'], ['--help']];

  async execute(): Promise<number> {
    this.context.stdout.write(
      renderRootHelp(this.cli.definitions(), {
        binaryName: this.cli.binaryName,
        version: this.cli.binaryVersion,
        // main() sets colorDepth to 1 when stdout is not a terminal or NO_COLOR is set.
        colored: this.context.colorDepth > 1,
      }),
    );
    return 0;
  }
}

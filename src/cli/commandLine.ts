import type { Definition } from 'clipanion';
import type { LogFormat } from './output.js';

/**
 * Helpers for the command line before and around clipanion's parser: what `main` needs to know when
 * parsing fails and no command object exists yet.
 */

/** The tokens before a `--` (after it everything is an argument, not a flag). */
function flagZone(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/**
 * The `--log-format` asked for, read from the raw arguments: usage errors happen before any command
 * exists, and a job that asked for JSON must get its usage error as JSON too. Anything but `json` is
 * text (an invalid value is itself a usage error, reported as text).
 */
export function scanLogFormat(argv: readonly string[]): LogFormat {
  const tokens = flagZone(argv);
  let format: LogFormat = 'text';
  tokens.forEach((token, i) => {
    if (token === '--log-format') format = tokens[i + 1] === 'json' ? 'json' : 'text';
    else if (token.startsWith('--log-format=')) format = token.slice(13) === 'json' ? 'json' : 'text';
  });
  return format;
}

/** Whether the arguments ask for help (`-h` or `--help`, before any `--`). */
export function asksForHelp(argv: readonly string[]): boolean {
  return flagZone(argv).some((t) => t === '-h' || t === '--help');
}

/** The flags that take a value, from clipanion's option definitions (`--out #0`, not `--resume`). */
export function valueFlags(definitions: readonly Definition[]): Set<string> {
  const flags = new Set<string>();
  for (const d of definitions) {
    for (const o of d.options) {
      const m = /^(\S+) #0$/.exec(o.definition);
      if (m?.[1]) for (const name of m[1].split(',')) flags.add(name);
    }
  }
  return flags;
}

/**
 * Joins a value flag and a negative number that follows it (`--seed -1` → `--seed=-1`). Clipanion reads
 * `-1` as a flag and reports "Not enough arguments to option --seed", which says nothing about the value;
 * joined, the flag gets its value and the validator can say what was expected (`--batch-size -3`:
 * "expected to be at least 1").
 */
export function joinNegativeValues(argv: readonly string[], flags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const end = argv.indexOf('--');
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    const next = argv[i + 1];
    if ((end < 0 || i < end) && flags.has(token) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${token}=${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

/** A parse failure described for a person: one line, and the usage of the command it concerns. */
export interface ParseErrorDescription {
  /** One line (or a few, for several invalid values). */
  readonly message: string;
  /** `abl-audit audit <dataset> --out OUT [options]`, when a command was recognised. */
  readonly usage: string | null;
  /** The command's words, e.g. `audit` or `import idx`, when one was recognised. */
  readonly command: string | null;
  /** A hint on what to run next. */
  readonly hint: string;
}

interface ClipanionErrorShape {
  readonly message?: unknown;
  readonly name?: unknown;
  readonly candidates?: readonly { readonly usage: string; readonly reason: string | null }[];
}

/** The registered commands' words (`audit`, `import idx`, ...), without the `-h`/`-v` flag commands. */
function commandNames(
  definitions: readonly Definition[],
  binaryName: string,
): { name: string; def: Definition }[] {
  return definitions
    .map((def) => ({ name: def.path.slice(binaryName.length).trim(), def }))
    .filter(({ name }) => name !== '' && !name.startsWith('-'));
}

/** The positional tokens: those that are neither flags nor the value of a value flag. */
function positionals(argv: readonly string[], flags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const tokens = flagZone(argv);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t.startsWith('-')) {
      if (flags.has(t)) i++;
      continue;
    }
    out.push(t);
  }
  return out;
}

/** A one-line usage: path, positionals, required options, `[options]`. */
function shortUsage(def: Definition): string {
  const required = def.options
    .filter((o) => o.required)
    .map((o) => {
      const [names = '', value] = o.definition.split(' ');
      const name = names.split(',').pop() ?? names;
      return value ? `${name} ${name.replace(/^-+/, '').toUpperCase().replace(/-/g, '_')}` : name;
    });
  return [def.usage, ...required, '[options]'].join(' ');
}

/** Every flag name any command takes. */
function knownFlags(definitions: readonly Definition[]): Set<string> {
  const flags = new Set<string>(['-h', '--help', '-v', '--version']);
  for (const d of definitions) {
    for (const o of d.options)
      for (const name of (o.definition.split(' ')[0] ?? '').split(',')) flags.add(name);
  }
  return flags;
}

/** Clipanion's parser messages, said the way our own usage errors are. */
function rephrase(reason: string, def: Definition): string {
  const text = reason.replace(/\.$/, '');
  let m = /^Unsupported option name \("(.*)"\)$/.exec(text);
  if (m) return `unknown option ${m[1]}`;
  m = /^Not enough arguments to option (\S+)$/.exec(text);
  if (m) return `${m[1]} needs a value`;
  m = /^Extraneous positional argument \("(.*)"\)$/.exec(text);
  if (m) return `unexpected argument '${m[1]}'`;
  if (text === 'Not enough positional arguments') {
    const wanted = def.usage.split(' ').filter((w) => w.startsWith('<'));
    return wanted.length ? `missing argument ${wanted.join(' ')}` : 'missing argument';
  }
  return text;
}

/** Edit distance, for "did you mean" on a mistyped command. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/**
 * Describes an error thrown by clipanion's parser (`cli.process`) in our words: the invalid value and
 * what was expected, the missing option, or the unknown command with the closest one — instead of
 * clipanion's list of every command's full usage.
 */
export function describeParseError(
  error: unknown,
  argv: readonly string[],
  definitions: readonly Definition[],
  binaryName: string,
): ParseErrorDescription {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ClipanionErrorShape;
  const raw = typeof e.message === 'string' ? e.message : String(error);
  const flags = valueFlags(definitions);
  const words = positionals(argv, flags);
  const commands = commandNames(definitions, binaryName);
  // The command the arguments name: the longest registered path the positionals start with.
  const match = commands
    .filter(({ name }) => name.split(' ').every((w, i) => words[i] === w))
    .sort((a, b) => b.name.length - a.name.length)[0];
  const rootHint = `Run \`${binaryName} --help\` for the commands.`;
  if (match) {
    const hint = `Run \`${binaryName} ${match.name} --help\` for its options and examples.`;
    const usage = shortUsage(match.def);
    const candidates = e.candidates ?? [];
    const reason = candidates[0]?.reason ?? null;
    let message = raw.split('\n')[0] ?? raw;
    if (candidates.length > 0 && reason !== null && candidates.every((c) => c.reason === reason)) {
      message = rephrase(reason, match.def);
    } else if (candidates.length > 0) {
      // "Command not found; did you mean ..." for a recognised command: clipanion's way of saying that a
      // required option is missing.
      const given = new Set(flagZone(argv).map((t) => t.split('=')[0]));
      const missing = match.def.options
        .filter((o) => o.required)
        .map((o) => (o.definition.split(' ')[0] ?? '').split(','))
        .filter((names) => !names.some((n) => given.has(n)))
        .map((names) => names[names.length - 1]);
      if (missing.length) {
        message = `missing required option${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
      }
    } else if (e.name === 'UsageError') {
      // A validator's message: "Invalid value for --lga: expected one of ... (got ...)". Several errors
      // come as a list after a colon; keep them on one line each.
      message = raw.replace(/:\n\n- /, ': ').replace(/\n- /g, '; ');
    }
    return { message: message.replace(/\.$/, ''), usage, command: match.name, hint };
  }
  if (e.name === 'UsageError') {
    return { message: raw.split('\n')[0] ?? raw, usage: null, command: null, hint: rootHint };
  }
  const first = words[0];
  if (first === undefined) {
    const known = knownFlags(definitions);
    const unknown = flagZone(argv).find((t) => t.startsWith('-') && !known.has(t.split('=')[0] as string));
    const message = unknown === undefined ? 'no command given' : `unknown option ${unknown}`;
    return { message, usage: null, command: null, hint: rootHint };
  }
  // A group (`import`) without its sub-command.
  const group = commands.filter(({ name }) => name.split(' ')[0] === first);
  if (group.length) {
    const subs = group.map(({ name }) => name.split(' ').slice(1).join(' '));
    return {
      message: `'${first}' needs one of: ${subs.join(', ')}`,
      usage: null,
      command: null,
      hint: `Run \`${binaryName} ${first} --help\` for these commands.`,
    };
  }
  const tops = [...new Set(commands.map(({ name }) => name.split(' ')[0] as string))];
  const closest = tops
    .map((name) => ({ name, d: distance(first, name) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  return {
    message: `unknown command '${first}'${closest ? `; did you mean '${closest.name}'?` : ''} (commands: ${tops.join(', ')})`,
    usage: null,
    command: null,
    hint: rootHint,
  };
}

/** The help texts, generated from the table (lib/cli/commands.ts): the program's and each command's. */
import { EXIT } from './args.js';
import {
  argLabel,
  commandSpec,
  COMMON_OPTIONS,
  EXIT_MEANINGS,
  optionsOf,
  STACK_OPTIONS,
  valueLabel,
  type CommandName,
  type CommandSpec,
  type OptionSpec,
  type ProgramSpec,
} from './commands.js';

const WIDTH = 112;
/** Where an action's summary starts, after its usage. */
const ACTION_COLUMN = 52;
/** Where an option's description starts. */
const OPTION_COLUMN = 34;

/** `text` wrapped at WIDTH, continuation lines indented by `indent`. */
function wrap(text: string, indent: number, first = 0): string {
  const lines: string[] = [];
  let line = '';
  let room = WIDTH - first;
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Two columns: what is typed, what it does; the second column starts at `column` or on the next line. */
function columns(rows: readonly [string, string][], column: number): string {
  return rows
    .map(([left, right]) => {
      const head = `  ${left}`;
      if (!right) return head;
      return head.length < column ? `${head.padEnd(column)}${wrap(right, column, column)}` : `${head}\n${' '.repeat(column)}${wrap(right, column, column)}`;
    })
    .join('\n');
}

const optionUsage = (name: string, o: OptionSpec) => (o.kind === 'flag' ? `--${name}` : `--${name} ${valueLabel(o)}`);

function optionRow(name: string, o: OptionSpec): [string, string] {
  const left = o.short ? `-${o.short}, ${optionUsage(name, o)}` : optionUsage(name, o);
  const notes = [
    o.required ? 'required' : '',
    o.kind === 'duration' ? `units s, m, h, d${o.zero ? '; 0: never' : ''}` : '',
    o.default !== undefined ? `default ${o.default}` : '',
  ].filter(Boolean);
  return [left, `${o.description}${notes.length ? ` (${notes.join('; ')})` : ''}`];
}

/** `[--json] [--stack NAME]`: the common options worth showing in a usage line. */
function commonUsage(name: CommandName): string[] {
  return Object.entries({ json: COMMON_OPTIONS.json, ...(commandSpec(name).stack ? STACK_OPTIONS : {}) }).map(([n, o]) => `[${optionUsage(n, o)}]`);
}

/** `alertgraph stats --from YYYY-MM-DD … [--json] [--stack NAME]`: arguments, then required and other options. */
function usageLine(program: ProgramSpec, name: CommandName, action: string | undefined, spec: CommandSpec, common = true): string {
  const own = Object.entries(spec.options ?? {});
  return [
    program.name,
    name,
    ...(action ? [action] : []),
    ...(spec.args ?? []).map((a) => (a.required ? argLabel(a) : `[${argLabel(a)}]`)),
    ...own.filter(([, o]) => o.required).map(([n, o]) => optionUsage(n, o)),
    ...own.filter(([, o]) => !o.required).map(([n, o]) => `[${optionUsage(n, o)}]`),
    ...(common ? commonUsage(name) : []),
  ].join(' ');
}

function optionRows(spec: CommandSpec): [string, string][] {
  return [
    ...(spec.args ?? []).map((a): [string, string] => [argLabel(a), `${a.description}${a.required ? '' : ' (optional)'}`]),
    ...Object.entries(spec.options ?? {}).map(([n, o]) => optionRow(n, o)),
  ];
}

export function commandHelp(program: ProgramSpec, name: CommandName): string {
  const top = commandSpec(name);
  const common = Object.entries(optionsOf(name, { summary: '' })).map(([n, o]) => optionRow(n, o));
  const parts: string[] = [];
  if (top.actions) {
    const actions = Object.entries(top.actions);
    const lines = actions.map(([a, spec]): [string, string] => [usageLine(program, name, a, spec, false), spec.summary]);
    parts.push(`Usage:\n${columns(lines, ACTION_COLUMN)}\n  (each also with ${commonUsage(name).join(' ')})`);
  } else {
    const usage = usageLine(program, name, undefined, top);
    parts.push(`Usage: ${wrap(usage, `Usage: ${program.name} ${name} `.length, 7)}`);
  }
  if (top.description) parts.push(top.description);
  if (top.examples) parts.push(`Examples:\n${columns(top.examples.map((e) => [`${program.name} ${name} ${e.args}`, e.text]), ACTION_COLUMN)}`);
  if (top.actions) {
    for (const [a, spec] of Object.entries(top.actions)) {
      const rows = optionRows(spec);
      if (rows.length) parts.push(`${name} ${a}:\n${columns(rows, OPTION_COLUMN)}`);
    }
    parts.push(`Every action:\n${columns(common, OPTION_COLUMN)}`);
  } else {
    parts.push(`${top.args ? 'Arguments and options' : 'Options'}:\n${columns([...optionRows(top), ...common], OPTION_COLUMN)}`);
  }
  return parts.join('\n\n');
}

/** "a, b and c" */
const list = (items: readonly string[]) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

export function programHelp(program: ProgramSpec): string {
  const width = Math.max(...program.commands.map((c) => c.length)) + 4;
  const stackCommands = program.commands.filter((c) => commandSpec(c).stack);
  const common = Object.entries(COMMON_OPTIONS).map(([n, o]: [string, OptionSpec]) =>
    o.kind === 'flag' ? `--${n}` : `--${n} ${valueLabel(o)}${o.default !== undefined ? ` (default ${o.default})` : ''}`,
  );
  const exits = (Object.keys(EXIT_MEANINGS) as (keyof typeof EXIT)[]).map((k) => `${EXIT[k]} ${EXIT_MEANINGS[k]}`);
  return [
    `${program.name} — ${program.title}`,
    `Usage: ${program.name} <command> [options]`,
    `Commands:\n${program.commands.map((c) => `  ${c.padEnd(width)}${commandSpec(c).summary}`).join('\n')}`,
    wrap(
      `Every command takes ${list(common)}; \`${program.name} <command> --help\` shows its options.` +
        (stackCommands.length
          ? ` The commands that act on a stack (${stackCommands.join(', ')}) act on the local stack that \`alertgraph dev\` runs for the data dir, ` +
            `or with --stack NAME on a deployed stack (read from its CloudFormation outputs; AWS credentials needed).`
          : ''),
      0,
    ),
    wrap(`Exit codes: ${exits.join(' · ')}.`, 0),
  ].join('\n\n');
}

/**
 * Runs a command line against the table (lib/cli/commands.ts): finds the command and its action, parses and
 * checks the options and arguments the table declares, prints the generated help, calls the handler, and maps
 * its errors to exit codes. The operator CLI (main.ts) and the sensor client (sensor-client.ts) share it.
 */
import { ConfigError, CLOCK_PATTERN, parseWatchedPorts } from '../settings.js';
import { StackUnavailable } from '../admin/stack-unavailable.js';
import { EXIT, UsageError, closestName, optionsTakingValue, parse, parseDate, parseDuration, parsePositiveInt } from './args.js';
import {
  argLabel,
  commandSpec,
  optionsOf,
  valueLabel,
  type CommandName,
  type CommandSpec,
  type Handler,
  type OptionSpec,
  type ProgramSpec,
} from './commands.js';
import { commandHelp, programHelp } from './help.js';

/** Each command's handler, loaded when the command runs (admin handlers pull in the AWS SDK, DuckDB, sharp). */
export type Handlers = { [N in CommandName]?: () => Promise<Handler<N>> };

export interface ParsedCommand {
  action?: string;
  /** --help was given (or a command with actions was given none): print the help, run nothing. */
  help: boolean;
  options: Record<string, unknown>;
  args: Record<string, string | undefined>;
}

function parseArgsOptions(options: Record<string, OptionSpec>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, { type: o.kind === 'flag' ? ('boolean' as const) : ('string' as const), ...(o.short ? { short: o.short } : {}) }]),
  );
}

/**
 * Where the options and the other arguments are in `argv`, given which options take a value (the next argument,
 * whatever it looks like). Finds a command's action before the action's own options are known.
 */
function scan(argv: readonly string[], options: Record<string, OptionSpec>): { options: number[]; positionals: number[] } {
  const takesValue = optionsTakingValue(parseArgsOptions(options));
  const found = { options: [] as number[], positionals: [] as number[] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      for (let j = i + 1; j < argv.length; j++) found.positionals.push(j);
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      found.options.push(i);
      if (takesValue.has(arg)) i++;
    } else found.positionals.push(i);
  }
  return found;
}

/** A typed option value from its text; the option's kind says how it is read. */
export function readOptionValue(name: string, spec: OptionSpec, raw: string): unknown {
  const option = `--${name}`;
  switch (spec.kind) {
    case 'date':
      return parseDate(raw, option);
    case 'clock':
      if (!CLOCK_PATTERN.test(raw)) throw new UsageError(`${option} must be a UTC time HH:MM, got "${raw}"`);
      return raw;
    case 'duration':
      return spec.zero && raw.trim() === '0' ? 0 : parseDuration(raw, option);
    case 'count':
      return parsePositiveInt(raw, option, spec.max ?? Number.MAX_SAFE_INTEGER);
    case 'port': {
      const port = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${option} must be 0–65535, got "${raw}"`);
      return port;
    }
    case 'ports':
      try {
        return parseWatchedPorts(raw, option);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
    case 'choice': {
      const choices = spec.choices ?? [];
      if (!choices.includes(raw)) throw new UsageError(`${option} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}, got "${raw}"`);
      return raw;
    }
    default:
      return raw;
  }
}

/** The command line of one command (its name already taken off), checked against the table. */
export function parseCommand(name: CommandName, argv: string[]): ParsedCommand {
  const top = commandSpec(name);
  let spec: CommandSpec = top;
  let action: string | undefined;
  let rest = argv;
  if (top.actions) {
    const every = Object.assign({}, ...Object.values(top.actions).map((a) => optionsOf(name, a))) as Record<string, OptionSpec>;
    const at = scan(argv, every).positionals[0];
    if (at === undefined) {
      parse(argv, parseArgsOptions(optionsOf(name)));
      return { help: true, options: {}, args: {} };
    }
    action = argv[at]!;
    const found = top.actions[action];
    if (!found) throw new UsageError(`unknown ${name} action "${action}" (${Object.keys(top.actions).join(', ')})`);
    spec = found;
    rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
  }
  const label = action ? `${name} ${action}` : name;
  const options = optionsOf(name, spec);
  if (top.actions) {
    // An option of another action: say where it belongs rather than only that it is unknown here.
    for (const i of scan(rest, options).options) {
      const option = /^--([^=]+)/.exec(rest[i]!)?.[1];
      if (!option || option in options) continue;
      const owner = Object.entries(top.actions).find(([, a]) => a.options && option in a.options)?.[0];
      if (owner) throw new UsageError(`--${option} belongs to ${name} ${owner}`);
    }
  }
  const { values, positionals } = parse(rest, parseArgsOptions(options));
  if (values.help) return { action, help: true, options: {}, args: {} };

  const argSpecs = spec.args ?? [];
  if (positionals.length > argSpecs.length) {
    const takes = argSpecs.length === 0 ? 'no arguments' : `${argSpecs.length === 1 ? 'one argument' : `at most ${argSpecs.length} arguments`} (${argSpecs.map(argLabel).join(' ')})`;
    throw new UsageError(`${label} takes ${takes}, got ${positionals.length}${argSpecs.length > 0 ? ' (quote an argument that has spaces)' : ''}`);
  }
  const args: Record<string, string | undefined> = {};
  argSpecs.forEach((a, i) => {
    const value = positionals[i];
    if (value === undefined && a.required) throw new UsageError(`${label} needs ${argLabel(a)}`);
    args[a.name] = value;
  });

  const parsed: Record<string, unknown> = {};
  for (const [option, o] of Object.entries(options)) {
    const raw = (values as Record<string, string | boolean | undefined>)[option];
    if (o.kind === 'flag') parsed[option] = raw === true;
    else if (typeof raw === 'string' && !(o.required && raw === '')) parsed[option] = readOptionValue(option, o, raw);
    else if (o.default !== undefined) parsed[option] = readOptionValue(option, o, o.default);
    else if (o.required) throw new UsageError(`--${option} ${valueLabel(o)} is required`);
  }
  return { action, help: false, options: parsed, args };
}

/** Runs `argv` (the arguments after the program's name) with `handlers`; returns the exit code. */
export async function runProgram(program: ProgramSpec, argv: string[], handlers: Handlers): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${programHelp(program)}\n`);
    return EXIT.ok;
  }
  const name = program.commands.find((c) => c === first);
  const load = name && handlers[name];
  if (!name || !load) {
    const guess = closestName(first, program.commands);
    process.stderr.write(`${program.name}: unknown command "${first}"${guess ? `; did you mean ${guess}?` : ''}\n\n${programHelp(program)}\n`);
    return EXIT.usage;
  }
  try {
    const parsed = parseCommand(name, rest);
    if (parsed.help) {
      process.stdout.write(`${commandHelp(program, name)}\n`);
      return EXIT.ok;
    }
    const handler = (await load()) as unknown as ((input: ParsedCommand) => Promise<number>) | Record<string, (input: ParsedCommand) => Promise<number>>;
    return await (typeof handler === 'function' ? handler(parsed) : handler[parsed.action!]!(parsed));
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof UsageError) {
      process.stderr.write(`${program.name} ${name}: ${message}${message.endsWith('?') ? ' ' : '; '}see ${program.name} ${name} --help\n`);
      return EXIT.usage;
    }
    process.stderr.write(`${program.name} ${name}: ${message}\n`);
    return err instanceof StackUnavailable ? EXIT.unavailable : EXIT.failure;
  }
}

/**
 * The CLI's table (lib/cli/commands.ts) is the one source of its options, help and usage errors (issue 11):
 * what the table declares shows in the generated help and is what the parser accepts, checks and types.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT, UsageError } from '../../lib/cli/args.js';
import { ALERTGRAPH, commandSpec, COMMANDS, optionsOf, SENSOR_CLIENT_PROGRAM, type CommandName, type OptionSpec, type ValueKind } from '../../lib/cli/commands.js';
import { commandHelp, programHelp } from '../../lib/cli/help.js';
import { parseCommand, readOptionValue, runProgram } from '../../lib/cli/program.js';
import { DEFAULT_FLUSH_AFTER_MS } from '../../lib/client/follow.js';
import { PARTNER_INDEX } from '../../lib/publish/layout.js';

const names = Object.keys(COMMANDS) as CommandName[];

/** Runs the program with handlers that record what they receive; returns the exit code, output and calls. */
async function run(argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (stdout.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
  const calls: unknown[] = [];
  const record = async (input: unknown) => (calls.push(input), EXIT.ok);
  const handlers = Object.fromEntries(
    names.map((n) => {
      const actions = commandSpec(n).actions;
      const handler = actions ? Object.fromEntries(Object.keys(actions).map((a) => [a, record])) : record;
      return [n, async () => handler];
    }),
  );
  const code = await runProgram(ALERTGRAPH, argv, handlers as never);
  vi.restoreAllMocks();
  return { code, stdout: stdout.join(''), stderr: stderr.join(''), calls };
}

afterEach(() => vi.restoreAllMocks());

describe('the help comes from the table', () => {
  it('every option and argument of every command and action is in that command’s help, with its description', () => {
    for (const name of names) {
      const help = commandHelp(ALERTGRAPH, name);
      expect(help).toContain(`alertgraph ${name}`);
      const spec = commandSpec(name);
      const parts = spec.actions ? Object.entries(spec.actions).map(([a, s]) => ({ action: a, spec: s })) : [{ action: undefined, spec }];
      for (const { action, spec: s } of parts) {
        if (action) expect(help).toContain(`alertgraph ${name} ${action}`);
        for (const [option, o] of Object.entries(optionsOf(name, s))) {
          expect(help, `${name} ${action ?? ''} --${option}`).toContain(`--${option}`);
          // Descriptions may wrap: their first three words are on one line.
          expect(help, `${name} --${option}`).toContain(o.description.split(' ').slice(0, 3).join(' '));
        }
        for (const arg of s.args ?? []) expect(help).toContain(arg.description.split(' ').slice(0, 3).join(' '));
      }
      expect(help.includes('--stack NAME')).toBe(spec.stack === true);
    }
  });

  it('the main help lists every command with its summary, the common options, --stack and every exit code', () => {
    const help = programHelp(ALERTGRAPH);
    for (const name of names) expect(help).toMatch(new RegExp(`^  ${name} +${commandSpec(name).summary.replace(/[|()]/g, '\\$&')}$`, 'm'));
    for (const option of ['--help', '--data-dir DIR (default .alertgraph)', '--json', '--stack NAME']) expect(help).toContain(option);
    for (const code of Object.values(EXIT)) expect(help).toMatch(new RegExp(`(^|[ ·])${code} [a-z]`, 'm'));
    const sensorHelp = programHelp(SENSOR_CLIENT_PROGRAM);
    expect(sensorHelp).toContain('keygen');
    expect(sensorHelp).not.toContain('partner');
    expect(sensorHelp).not.toContain('--stack');
  });

  it('the defaults the help shows are the ones the code uses elsewhere', () => {
    expect(readOptionValue('flush-after', COMMANDS.push.options['flush-after'], COMMANDS.push.options['flush-after'].default)).toBe(DEFAULT_FLUSH_AFTER_MS);
    expect(COMMANDS.partner.actions.link.options.path.value).toBe(PARTNER_INDEX);
  });
});

describe('parsing and usage errors come from the table', () => {
  it('an unknown option is exit 2 with the nearest known one, and runs nothing', async () => {
    const r = await run(['stats', '--fro', '2026-01-01', '--to', '2026-01-02']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option --fro; did you mean --from? see alertgraph stats --help');
    expect(r.calls).toEqual([]);
    // --stack belongs to the commands that act on a stack only.
    expect((await run(['keygen', '--out', 'k.pem', '--stack', 'x'])).stderr).toContain('unknown option --stack');
    expect((await run(['stat'])).stderr).toContain('unknown command "stat"; did you mean stats?');
  });

  it('an option of another action says which action it belongs to', async () => {
    const r = await run(['partner', 'link', 'cert-b', '--link', 'x']);
    expect([r.code, r.stderr.includes('--link belongs to partner revoke')]).toEqual([2, true]);
  });

  it('hands the handler typed values, defaults applied', async () => {
    const r = await run(['push', 'eve.json', '--sensor', 's', '--key', '-k.pem', '--heartbeat', '0', '--batch-size', '50', '--format', 'snort']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toEqual([
      {
        action: undefined,
        help: false,
        args: { file: 'eve.json' },
        options: {
          sensor: 's',
          key: '-k.pem',
          endpoint: undefined,
          format: 'snort',
          'batch-size': 50,
          'retry-for': 300_000,
          'spool-dir': undefined,
          follow: false,
          heartbeat: 0,
          'flush-after': DEFAULT_FLUSH_AFTER_MS,
          checkpoint: undefined,
          'data-dir': '.alertgraph',
          json: false,
          help: false,
        },
      },
    ]);
    const sensor = await run(['sensor', '--json', 'add', 'edge-1', '--deployed', '2026-11-01', '--public-key', '-Ab_c']);
    expect(sensor.calls).toMatchObject([{ action: 'add', args: { id: 'edge-1' }, options: { deployed: '2026-11-01', 'public-key': '-Ab_c', json: true } }]);
  });

  it('--help prints the generated help and runs nothing; a command with actions and none given shows its help', async () => {
    for (const argv of [['report', '--help'], ['partner', 'revoke', '-h'], ['sensor']]) {
      const r = await run(argv);
      expect([r.code, r.calls.length]).toEqual([0, 0]);
      expect(r.stdout).toBe(`${commandHelp(ALERTGRAPH, argv[0] as CommandName)}\n`);
    }
  });

  it('refuses missing required options and arguments, extra arguments and unknown actions', () => {
    expect(() => parseCommand('stats', ['--to', '2026-01-01'])).toThrow('--from YYYY-MM-DD is required');
    expect(() => parseCommand('keygen', ['--out', ''])).toThrow('--out <file> is required');
    expect(() => parseCommand('sensor', ['add', '--deployed', '2026-01-01', '--public-key', 'k'])).toThrow('sensor add needs <id>');
    expect(() => parseCommand('query', ['select', '1'])).toThrow('query takes one argument ("<SQL>"), got 2');
    expect(() => parseCommand('rebuild', ['now'])).toThrow('rebuild takes no arguments, got 1');
    expect(() => parseCommand('partner', ['frob', 'x'])).toThrow('unknown partner action "frob" (add, list, link, links, revoke, reinstate)');
    expect(parseCommand('partner', ['links']).args).toEqual({ id: undefined });
  });

  // One good and one bad value per kind; a kind added to the table without a case here fails the last check.
  const cases: Record<ValueKind, { spec: OptionSpec; good: [string, unknown][]; bad: [string, RegExp][] }> = {
    flag: { spec: { kind: 'flag', description: '' }, good: [], bad: [] },
    text: { spec: { kind: 'text', description: '' }, good: [['-x y', '-x y']], bad: [] },
    choice: { spec: { kind: 'choice', choices: ['a', 'b'], description: '' }, good: [['b', 'b']], bad: [['c', /--o must be a or b, got "c"/]] },
    date: { spec: { kind: 'date', description: '' }, good: [['2024-02-29', '2024-02-29']], bad: [['2026-02-29', /must be a date YYYY-MM-DD/], ['26-1-1', /date/]] },
    clock: { spec: { kind: 'clock', description: '' }, good: [['23:59', '23:59']], bad: [['24:00', /UTC time HH:MM/]] },
    duration: {
      spec: { kind: 'duration', description: '' },
      good: [['90s', 90_000], ['2h', 7_200_000], ['30d', 30 * 86_400_000]],
      bad: [['0', /unit s, m, h or d/], ['5', /unit/]],
    },
    count: { spec: { kind: 'count', max: 10, description: '' }, good: [['10', 10]], bad: [['11', /from 1 to 10/], ['0', /from 1 to 10/], ['1.5', /integer/]] },
    port: { spec: { kind: 'port', description: '' }, good: [['0', 0], ['65535', 65535]], bad: [['65536', /0–65535/], ['', /0–65535/], ['x', /0–65535/]] },
    ports: { spec: { kind: 'ports', description: '' }, good: [['TCP/445, udp/137', ['tcp/445', 'udp/137']]], bad: [['tcp/70000', /proto\/number/]] },
  };

  it('reads and checks each value kind', () => {
    for (const [kind, c] of Object.entries(cases)) {
      for (const [raw, value] of c.good) expect(readOptionValue('o', c.spec, raw), `${kind} ${raw}`).toEqual(value);
      for (const [raw, error] of c.bad) {
        expect(() => readOptionValue('o', c.spec, raw), `${kind} ${raw}`).toThrow(UsageError);
        expect(() => readOptionValue('o', c.spec, raw)).toThrow(error);
      }
    }
    expect(readOptionValue('o', { kind: 'duration', zero: true, description: '' }, '0')).toBe(0);
    const used = new Set(names.flatMap((n) => [commandSpec(n), ...Object.values(commandSpec(n).actions ?? {})].flatMap((s) => Object.values(optionsOf(n, s)).map((o) => o.kind))));
    for (const kind of used) expect(Object.keys(cases)).toContain(kind);
  });
});

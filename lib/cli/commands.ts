/**
 * The CLI's one table (DESIGN §10): every command, its actions, options and arguments, with their value kinds,
 * defaults and help. Parsing and usage errors (lib/cli/program.ts) and every help text (lib/cli/help.ts) come
 * from here; the handlers (lib/cli/commands/<command>.ts) receive the options already typed by it.
 *
 * Data only: the light sensor client bundles this module, so it imports nothing but the import-free settings.
 */
import { SETTINGS } from '../settings.js';
import type { EXIT } from './args.js';

/**
 * What an option's value is, and so how it is checked and what the handler gets: `flag` a boolean; `text`
 * and `choice` a string; `date` YYYY-MM-DD; `clock` UTC HH:MM; `duration` a number with a unit s, m, h or d,
 * in milliseconds; `count` an integer from 1 to `max`; `port` a TCP port 0–65535; `ports` a list of
 * proto/number.
 */
export type ValueKind = 'flag' | 'text' | 'choice' | 'date' | 'clock' | 'duration' | 'count' | 'port' | 'ports';

export interface OptionSpec {
  kind: ValueKind;
  description: string;
  /** How the value is shown in help (FILE, YYYY-MM-DD, …); derived from the kind when left out. */
  value?: string;
  /** As it would be typed; parsed like a typed value. */
  default?: string;
  required?: boolean;
  short?: string;
  /** `choice`: the values allowed. */
  choices?: readonly string[];
  /** `count`: the largest value. */
  max?: number;
  /** `duration`: 0 is allowed and means "never". */
  zero?: boolean;
}

export interface ArgSpec {
  name: string;
  /** How the argument is shown in help; `<name>` when left out. */
  value?: string;
  required?: boolean;
  description: string;
}

export interface CommandSpec {
  /** One line: in the list of commands, or beside an action's usage. */
  summary: string;
  /** Paragraphs after the usage. */
  description?: string;
  options?: Record<string, OptionSpec>;
  args?: readonly ArgSpec[];
  /** Usage lines worth showing whole: arguments after the command, and what they do. */
  examples?: readonly { args: string; text: string }[];
}

export interface TopCommandSpec extends CommandSpec {
  /** Acts on a stack: takes --stack NAME (a deployed stack) besides the local one of --data-dir. */
  stack?: boolean;
  /** Actions (`sensor add`, `partner link`, …); the first argument names one. */
  actions?: Record<string, CommandSpec>;
}

/** Options every command takes. */
export const COMMON_OPTIONS = {
  'data-dir': { kind: 'text', value: 'DIR', default: '.alertgraph', description: "the local stack's data; push's spool and checkpoints" },
  json: { kind: 'flag', description: 'machine output: one JSON document on stdout' },
  help: { kind: 'flag', short: 'h', description: 'this help' },
} as const satisfies Record<string, OptionSpec>;

/** The option of the commands that act on a stack (`stack: true`). */
export const STACK_OPTIONS = {
  stack: { kind: 'text', value: 'NAME', description: 'act on the deployed stack NAME (AWS credentials needed)' },
} as const satisfies Record<string, OptionSpec>;

/** What the exit codes mean, by the names of EXIT (lib/cli/args.ts). */
export const EXIT_MEANINGS = {
  ok: 'done',
  failure: 'failed (some input refused, a batch failed, an error)',
  usage: 'usage (a bad option or value, a refused query)',
  unavailable: 'no stack to act on (no `alertgraph dev` running for the data dir, no such deployed stack)',
  tempfail: 'try again later (push: the endpoint was unreachable, the batches are spooled)',
} as const satisfies Record<keyof typeof EXIT, string>;

const from = { kind: 'date', description: 'first day, inclusive' } as const;
const to = { kind: 'date', description: 'last day, inclusive' } as const;

export const COMMANDS = {
  dev: {
    summary: 'run the whole stack on this machine (DynamoDB Local, S3 emulator, gateway)',
    description: `Starts DynamoDB Local, the S3 emulator, the local API gateway and the local CDN on 127.0.0.1, persisted under
the data dir, and renders the graphs: at start when nothing is published yet, every hour ("today so far"), and
after --daily-at (UTC), when the previous day is closed.
--demo registers three demo sensors and pushes generated alerts when the registry is empty.
Ctrl-C stops everything.`,
    options: {
      port: { kind: 'port', default: '8787', description: 'port of the local API gateway on 127.0.0.1' },
      demo: { kind: 'flag', description: 'demo sensors and generated alerts when the registry is empty' },
      'daily-at': { kind: 'clock', default: SETTINGS.dailyRenderAt.default, description: 'UTC time of the daily render, which closes the previous day' },
      'watched-ports': { kind: 'ports', default: SETTINGS.watchedPorts.default, description: 'ports drawn as series on the partner page' },
    },
  },
  keygen: {
    summary: "create a sensor's Ed25519 key pair",
    description: `Writes a new Ed25519 private key (PEM, mode 600) to <file> and prints the public key (base64url, raw 32 bytes)
to register with \`alertgraph sensor add\`.`,
    options: {
      out: { kind: 'text', value: '<file>', required: true, description: 'where the private key is written; an existing file is refused' },
    },
  },
  sensor: {
    summary: 'add | list | revoke sensors',
    stack: true,
    description: `Acts on the local stack started by \`alertgraph dev\` with the same --data-dir.
Adding an existing id replaces its key and details (key rotation); a revoked sensor is refused within a minute.`,
    actions: {
      add: {
        summary: 'registers a sensor, or replaces its key and details',
        args: [{ name: 'id', required: true, description: 'a-z, 0-9 and -, up to 63 characters' }],
        options: {
          'public-key': { kind: 'text', value: '<base64url|file>', required: true, description: 'the public key `alertgraph keygen` printed, or a file holding it' },
          deployed: { kind: 'date', required: true, description: 'the day the sensor went into service' },
          name: { kind: 'text', value: 'N', description: 'display name (default: the id, or the name it had)' },
          location: { kind: 'text', value: 'L', description: 'where the sensor is' },
        },
      },
      list: { summary: 'the sensors, active and revoked' },
      revoke: {
        summary: 'revokes a sensor: its batches are refused within a minute',
        args: [{ name: 'id', required: true, description: 'the sensor' }],
      },
    },
  },
  push: {
    summary: 'send a log (Suricata EVE, Snort 3 alert_json, native) as signed batches',
    args: [{ name: 'file', value: '<file|->', description: 'the log; - reads stdin; none only drains the spool' }],
    options: {
      sensor: { kind: 'text', value: '<id>', required: true, description: 'the registered sensor id' },
      key: { kind: 'text', value: '<file>', required: true, description: 'the private key from `alertgraph keygen`' },
      endpoint: { kind: 'text', value: 'URL', description: 'the ingest API (default: the local stack of --data-dir)' },
      format: { kind: 'choice', choices: ['eve', 'snort', 'idea', 'native'], description: 'the input format (default: detected from the first line)' },
      'batch-size': { kind: 'count', default: '1000', max: 10_000, description: 'lines per batch at most' },
      'retry-for': { kind: 'duration', default: '5m', description: 'how long an unreachable endpoint is retried before spooling' },
      'spool-dir': { kind: 'text', value: 'DIR', description: 'where unsent batches wait (default <data-dir>/spool/<sensor>)' },
      follow: { kind: 'flag', description: 'tail the file as it grows (tail -F)' },
      heartbeat: { kind: 'duration', default: '5m', zero: true, description: '--follow: an empty batch after this long without traffic' },
      'flush-after': { kind: 'duration', default: '10m', description: "--follow: send a partial batch once its oldest line waited this long" },
      checkpoint: { kind: 'text', value: 'FILE', description: '--follow: the read position (default <data-dir>/follow/<sensor>.json)' },
    },
    description: `Input: Suricata EVE, Snort 3 alert_json or IDEA records ("Format": "IDEA0", CESNET's Warden), one object per
line, or native alerts — one object per line, or one {"alerts":[…]} document; --format is detected from the
first line when not given. A gzip-compressed input (a rotated eve.json.2.gz) is recognised by its first bytes
and decompressed.
Reads the log as a stream and sends it in signed batches of at most --batch-size lines and 4 MiB. Each
batch's Idempotency-Key is derived from its content, so pushing the same log twice counts it once.
Failed sends are retried with exponential backoff and jitter, honouring Retry-After; 400, 401, 409 and 415
are reported and not retried; a batch refused as too large (413) is split in two.
If the endpoint stays unreachable for --retry-for, the unsent batches are written to the spool and push exits
with code 75 (EX_TEMPFAIL): run it again later.
Every push sends the spool first, with the original keys; run it with no file to only drain the spool.
Progress goes to stderr (a bar on a terminal); --json prints only the final summary on stdout. Alert lines
the service rejects are counted in "rejected"; the first reasons are printed with their line numbers, and
--json lists them all in "rejections".
A damaged spool entry is moved to <spool dir>/quarantine/ with a warning; the rest goes on.

--follow tails a growing file like tail -F (rotation by rename or truncation), sends a partial batch once its
oldest line has waited --flush-after (each batch costs the service about the same whatever its size, so fewer,
fuller batches are cheaper; a shorter wait shows alerts sooner and costs more), an empty heartbeat batch after
--heartbeat without other traffic, spools while the endpoint is down and keeps reading. Its position is
checkpointed atomically so a restart neither re-sends nor misses lines. SIGINT or SIGTERM sends or spools
what was read and exits 0. After a 401 it re-reads --key (key rotation) and spools until it works.

Exit codes: 0 delivered; 1 batches refused (listed), a spool entry quarantined, or an unexpected error;
2 bad command line or key file; 69 no --endpoint and no local stack; 75 endpoint unreachable for
--retry-for, unsent batches spooled (run push again later).`,
  },
  stats: {
    summary: 'daily figures, live from the counters',
    stack: true,
    options: { from: { ...from, required: true }, to: { ...to, required: true } },
    description: `Daily figures live from the counters: total, per sensor, per protocol, per destination port; distinct and new
source addresses once the day has been closed by the render job (null before).`,
  },
  render: {
    summary: 'render and publish the graphs now',
    stack: true,
    options: { date: { kind: 'date', description: 'rebuild only the archive copy of this closed day' } },
    description: `Rolls up the days that changed, closes finished days on the alert lake (facts compacted, distinct and new
sources counted by the embedded engine), renders the public and partner graphs and publishes them; closed days
without an archive copy (after a backfill) get one. --date D rebuilds only the archive copy of the closed day D
(public/archive/D/…) and leaves the live graphs as they are; a day not closed yet is refused (exit 2).`,
  },
  rebuild: {
    summary: 'recompute every statistic from the raw archive, then render',
    stack: true,
    description: `Recomputes every statistic from the raw archive (raw/…): each batch's counters and facts are written again,
the lake's compacted facts and first-seen table are rebuilt, then the whole history is rolled up, closed and
rendered. Safe to run while sensors push. Run it once after upgrading a data dir counted before the lake
existed: it writes the facts that \`query\` and the statistics read.`,
  },
  partner: {
    summary: 'add | list | link | links | revoke | reinstate partners and their signed links',
    stack: true,
    actions: {
      add: {
        summary: 'adds a partner',
        args: [{ name: 'id', required: true, description: 'the partner' }],
        options: { name: { kind: 'text', value: 'N', description: 'display name (default: the id)' } },
      },
      list: { summary: 'the partners, active and revoked' },
      link: {
        summary: 'prints the signed URL',
        args: [{ name: 'id', required: true, description: 'the partner' }],
        options: {
          expires: { kind: 'duration', default: '30d', description: 'how long the link works' },
          // The default, PARTNER_INDEX, lives with the publishing layout, which the sensor client must not load.
          path: { kind: 'text', value: 'partners/index.html', description: 'the page the link opens (default partners/index.html)' },
        },
      },
      links: {
        summary: 'issued links: id, partner, issuer, issued, expires, revoked',
        args: [{ name: 'id', description: "only this partner's links" }],
      },
      revoke: {
        summary: "ends all the partner's links",
        args: [{ name: 'id', required: true, description: 'the partner' }],
        options: { link: { kind: 'text', value: '<link id>', description: 'end only this link' } },
      },
      reinstate: {
        summary: "a revoked partner's links work again (not those revoked one by one)",
        args: [{ name: 'id', required: true, description: 'the partner' }],
      },
    },
    examples: [{ args: 'revoke <id> --link <link id>', text: "ends that one link; the partner's other links keep working" }],
    description: `Links are CloudFront signed URLs (locally: the same format, checked by the local CDN) that open the partner
area and its images until they expire; revoking a partner ends all its links at once, no one else's. A link's
id (shown by \`partner link --json\` and \`partner links\`) is signed into its URL, so one link can be revoked;
links issued before links carried their id end only with their partner or their expiry.
Every issued link is recorded (partner, issuer, time, expiry, and a revocation of that link).
With --stack <name>, revocations go to the deployed CDN's revocation list first, then to the registry; a
reinstatement goes to the registry first. If a command fails halfway, run it again: it completes the rest.
Errors (exit 2): unknown_partner, unknown_link, link_not_revocable, partner_revoked, partner_exists.`,
  },
  query: {
    summary: 'run one read-only SQL statement over the alert facts',
    stack: true,
    args: [{ name: 'sql', value: '"<SQL>"', required: true, description: 'one SELECT (or WITH … SELECT), in quotes' }],
    options: { from, to },
    description: `Runs one read-only SELECT (or WITH … SELECT) over the view \`facts\`: every counted alert, one row each, with
the columns day, time, sensor, src, src_net, src_port, dst, dst_port, proto, sig_id, signature, category,
severity, sig_scan, batch. Source and destination addresses are pseudonyms (keyed HMAC), src_net the IPv4 /8
or IPv6 /16. --from/--to limit \`facts\` to those days (inclusive), which also limits what is read.
Locally the embedded engine (DuckDB) runs it on a copy of the facts; with --stack, Athena runs it on the
compacted facts (days closed by the render job) — in Athena's dialect.
--json prints {"columns":[…],"rows":[{"<column>":value,…}]}, numbers as JSON numbers.
Anything but one read-only statement is refused with exit code 2.`,
    examples: [
      { args: '"select day, count(*) as alerts, count(distinct src) as sources from facts group by day order by day"', text: '' },
      { args: `"select dst_port, count(*) as n from facts where proto = 'tcp' group by dst_port order by n desc limit 14" --from 2026-11-01`, text: '' },
    ],
  },
  report: {
    summary: "the period report of the analysts' statistics (sources, ICMP, scans, cohorts, ports)",
    stack: true,
    options: {
      from: { ...from, required: true },
      to: { ...to, required: true },
      out: { kind: 'text', value: 'report.html', description: 'also write the report as an HTML page with its charts' },
    },
    description: `The period report of DESIGN §14, as eCSIRT.net's final status update showed it: alerts and distinct source
addresses; sources that sent ICMP against the others, with alerts per source; scans (a source-day with 20 or
more destination ports or destinations, or a signature that names a scan) and the largest scan; sources by
activity days (1, ≥ 10, ≥ 100) with their top ports; per day alerts, sources, new sources, scan alerts and new
sources of unknown (non-scan) traffic; the top 100 ports with their class and service name.
Sources, new sources and new sources of unknown traffic are null for days not closed yet.
Locally on the embedded engine; with --stack on Athena (compacted, closed days).
--json prints the report document; --out writes it as an HTML page with its charts.`,
  },
  warnings: {
    summary: 'early warnings: surges, new activity, silent sensors',
    stack: true,
    options: { from: { kind: 'date', description: 'only warnings of this day or later' } },
    description: `The early warnings the render job raised (DESIGN §15), newest first, every kind:
  surge   a port (tcp/445) or signature (sid:<id>, msg:<text>) active on at least 14 of the 28 days before a
          closed day had at least 3 × its median alerts (and ≥ 50) or distinct sources (and ≥ 10) that day;
  new     a port or signature without any alert in the 28 days before was seen from ≥ 10 distinct sources;
  silent  a sensor sent no batch, not even a heartbeat, for more than 2 hours (cleared by its next batch).
Thresholds are settings (WARN_* in the render job's environment).
--json prints {"warnings":[{"id","day","kind","subject","figures":{"alerts","sources"},"baseline":{"alerts","sources"},…}]}.`,
  },
} as const satisfies Record<string, TopCommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** A program: the operator CLI, or the sensor client with a few of its commands. */
export interface ProgramSpec {
  name: string;
  title: string;
  commands: readonly CommandName[];
}

export const ALERTGRAPH: ProgramSpec = {
  name: 'alertgraph',
  title: 'statistics of intrusion-detection alerts',
  commands: Object.keys(COMMANDS) as CommandName[],
};

export const SENSOR_CLIENT_PROGRAM: ProgramSpec = {
  name: 'alertgraph-sensor',
  title: 'the sensor side of alertgraph: send IDS alerts as signed batches (Node.js 20 or later)',
  commands: ['keygen', 'push'],
};

/** A command's entry, without its literal types. */
export const commandSpec = (name: CommandName): TopCommandSpec => COMMANDS[name];

/** Every option `spec` (the command itself, or one of its actions) takes. */
export function optionsOf(name: CommandName, spec: CommandSpec = commandSpec(name)): Record<string, OptionSpec> {
  return { ...spec.options, ...(commandSpec(name).stack ? STACK_OPTIONS : {}), ...COMMON_OPTIONS };
}

/** How an option's value looks in help and errors. */
export function valueLabel(spec: OptionSpec): string {
  if (spec.value) return spec.value;
  if (spec.choices) return spec.choices.join('|');
  if (spec.default !== undefined) return spec.default;
  return { flag: '', text: 'VALUE', choice: 'VALUE', date: 'YYYY-MM-DD', clock: 'HH:MM', duration: 'DURATION', count: 'N', port: 'PORT', ports: 'PROTO/PORT,…' }[spec.kind];
}

export const argLabel = (a: ArgSpec): string => a.value ?? `<${a.name}>`;

// What a handler receives, typed from the table.

type KindValue<O> = O extends { kind: 'flag' }
  ? boolean
  : O extends { kind: 'choice'; choices: readonly (infer C)[] }
    ? C
    : O extends { kind: 'duration' | 'count' | 'port' }
      ? number
      : O extends { kind: 'ports' }
        ? string[]
        : string;

type OptionValue<O> = O extends { kind: 'flag' } | { default: string } | { required: true } ? KindValue<O> : KindValue<O> | undefined;

export type OptionValues<Options> = { -readonly [K in keyof Options]: OptionValue<Options[K]> };

type ArgValues<Args> = Args extends readonly ArgSpec[]
  ? { [A in Args[number] as A['name']]: A extends { required: true } ? string : string | undefined }
  : Record<never, never>;

type OwnOptions<S> = S extends { options: infer O } ? O : Record<never, never>;
type StackOf<Top> = Top extends { stack: true } ? typeof STACK_OPTIONS : Record<never, never>;

/** Parsed options and arguments of `S`, an action of `Top` or `Top` itself. */
export interface Parsed<S, Top = S> {
  options: OptionValues<OwnOptions<S> & typeof COMMON_OPTIONS & StackOf<Top>>;
  args: ArgValues<S extends { args: infer A } ? A : undefined>;
}

type Run<S, Top> = (input: Parsed<S, Top>) => Promise<number>;

/** A command's handler: a function, or one per action. */
export type Handler<N extends CommandName> = (typeof COMMANDS)[N] extends { actions: infer A }
  ? { [K in keyof A]: Run<A[K], (typeof COMMANDS)[N]> }
  : Run<(typeof COMMANDS)[N], (typeof COMMANDS)[N]>;

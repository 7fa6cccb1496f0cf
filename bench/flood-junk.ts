/**
 * The junk sender of the flood bench (bench/flood.ts), run as its own process so that sending does not take CPU
 * from the process that serves the API:
 * `node --import tsx bench/flood-junk.ts <url> <honest sensor id> <requests per second> <seconds>`.
 *
 * Requests go out on a fixed schedule (request n at n / rate seconds from the start, late ones sent at once), not
 * "a burst, then a sleep", whose drift kept the old sender under its target; keep-alive connections, so the
 * rate is not bounded by connection setup. Prints "ready" when it starts sending, then one JSON line of what it
 * measured. Bounded: rate × seconds requests at most, each with a 10 s timeout, to 127.0.0.1 only.
 */
import { Agent, request } from 'node:http';

const [url = '', honestId = '', rateArg = '200', secondsArg = '10'] = process.argv.slice(2);
const target = new URL(url);
if (target.hostname !== '127.0.0.1') throw new Error(`flood-junk: ${url} is not on 127.0.0.1`);
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const intervalMs = 1000 / rate;
/** A server that stops answering must not make the sender open sockets without end: over this, a slot is skipped. */
const MAX_IN_FLIGHT = 256;
const REQUEST_TIMEOUT_MS = 10_000;

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const statuses: Record<string, number> = {};
const digest = `sha-256=:${Buffer.alloc(32).toString('base64')}:`;
const body = Buffer.from('{}\n');
let inFlight = 0;
let maxInFlight = 0;
let answered = 0;
let skipped = 0;
let lastAnswerAt = 0;

/** Three kinds in turn: a made-up key id, the honest sensor's id with a bad signature, no signature at all. */
function junkHeaders(n: number): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-ndjson',
    'content-digest': digest,
    'idempotency-key': `junk-${n}`,
    'content-length': body.length,
  };
  const kind = n % 3;
  if (kind !== 2) {
    const keyid = kind === 0 ? `junk-${n}` : honestId;
    headers['signature-input'] =
      `sig1=("@method" "@path" "content-digest" "content-type" "idempotency-key");created=${Math.floor(Date.now() / 1000)};keyid="${keyid}";alg="ed25519"`;
    headers.signature = `sig1=:${Buffer.alloc(64, n % 251).toString('base64')}:`;
  }
  return headers;
}

function count(status: string): void {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (status === 'error') return;
  answered++;
  lastAnswerAt = performance.now();
}

function sendJunk(n: number): Promise<void> {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  return new Promise<void>((resolve) => {
    const done = (status: string) => {
      inFlight--;
      count(status);
      resolve();
    };
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: junkHeaders(n), timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        res.resume();
        res.once('end', () => done(String(res.statusCode)));
        res.once('error', () => done('error'));
      },
    );
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => done('error'));
    req.end(body);
  });
}

const sends: Promise<void>[] = [];
process.stdout.write('ready\n');
const started = performance.now();
let n = 0;
while (n < total) {
  const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
  for (; n < due; n++) {
    if (inFlight >= MAX_IN_FLIGHT) skipped++;
    else sends.push(sendJunk(n));
  }
  const wait = started + n * intervalMs - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const sendSeconds = (performance.now() - started) / 1000;
await Promise.all(sends);
agent.destroy();
const seconds = (lastAnswerAt - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ targetPerSecond: rate, sent: total - skipped, skipped, answered, statuses, sendSeconds, seconds, achievedPerSecond: answered / seconds, maxInFlight })}\n`,
);

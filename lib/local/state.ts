/**
 * What a running `alertgraph dev` records in its data dir so that the other commands can find it.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StackSettings } from '../settings.js';

export const LOCAL_TABLE = 'alertgraph';
export const LOCAL_BUCKET = 'alertgraph';

export interface LocalStackState {
  version: 1;
  pid: number;
  /** Gateway and CDN: one origin. */
  url: string;
  dynamoEndpoint: string;
  s3Endpoint: string;
  tableName: string;
  bucketName: string;
  startedAt: string;
  /**
   * The settings the dev stack's ingest and scheduled renders run with, so that `render` and `rebuild` from
   * another shell use the same ones. Absent in a state file of an older version: read with localStackSettings.
   */
  settings?: StackSettings;
}

export function stateFile(dataDir: string): string {
  return join(resolve(dataDir), 'stack.json');
}

export async function readLocalState(dataDir: string): Promise<LocalStackState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dataDir), 'utf8')) as LocalStackState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeLocalState(dataDir: string, state: LocalStackState): Promise<void> {
  await mkdir(resolve(dataDir), { recursive: true });
  const tmp = `${stateFile(dataDir)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, stateFile(dataDir));
}

export async function removeLocalState(dataDir: string): Promise<void> {
  await rm(stateFile(dataDir), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

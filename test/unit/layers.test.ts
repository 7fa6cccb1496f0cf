/**
 * Which way imports may point: the code that runs on Lambda never imports the local emulator stack or the CLI,
 * the CDK app never imports the CLI (their shared contract, the stack outputs, is lib/stack-outputs.ts), and
 * storage is an adapter layer (lib/store) that the pure core does not reach past.
 * Read from the sources, so a stray import fails here rather than in a bundle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/build/bundle.js';

function sources(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(REPO_ROOT, dir, f));
}

/** Module specifiers of every static or dynamic import and re-export in a file. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

function offending(dirs: string[], forbidden: RegExp): string[] {
  return dirs.flatMap(sources).flatMap((f) => importsOf(f).filter((s) => forbidden.test(s)).map((s) => `${relative(REPO_ROOT, f)} → ${s}`));
}

describe('import direction', () => {
  it('the Lambda code (handlers, ingest, render, stores, lake, publishing) imports nothing of the local stack or the CLI', () => {
    expect(offending(['lambdas', 'lib/ingest', 'lib/render', 'lib/store', 'lib/lake', 'lib/publish'], /\/(local|cli)\//)).toEqual([]);
  });

  it('DynamoDB is reached through the adapters of lib/store: no other library module imports its client', () => {
    // The local stack (emulators, provisioning), the admin context (local or deployed stack), the CLI and the
    // Lambda handlers wire clients to the adapters.
    const lib = readdirSync(join(REPO_ROOT, 'lib'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !['store', 'local', 'admin', 'cli'].includes(d.name))
      .map((d) => `lib/${d.name}`);
    expect(offending(lib, /^@aws-sdk\/client-dynamodb$/)).toEqual([]);
  });

  it('the pure partner-link logic (lib/links) imports no storage adapter: of lib/store only the key schema', () => {
    expect(offending(['lib/links'], /\/store\/(?!table\.js$)/)).toEqual([]);
  });

  it('the CDK app imports nothing of the CLI', () => {
    expect(offending(['cdk'], /\/cli\//)).toEqual([]);
  });

  it('catches such an import (the check reads real import lines)', () => {
    expect(importsOf(join(REPO_ROOT, 'lib/local/aws-clients.ts'))).toEqual(['../store/aws-clients.js']);
  });
});

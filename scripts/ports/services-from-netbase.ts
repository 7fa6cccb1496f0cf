/**
 * Writes lib/ports/services.ts, the shipped table of registered service names, from Debian netbase's
 * /etc/services. Run once per netbase release, on a machine that has it installed:
 *
 *   node --import tsx scripts/ports/services-from-netbase.ts [/etc/services] [netbase-version] [copyright]
 *
 * The version defaults to what dpkg reports for the installed netbase, the copyright file to
 * /usr/share/doc/netbase/copyright (its holders and licence are restated in the generated header). Only facts
 * are kept: the first name, the port and the protocol of each TCP and UDP line; aliases, comments and layout
 * are dropped.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const servicesPath = process.argv[2] ?? '/etc/services';
const version = process.argv[3] ?? installedNetbaseVersion();
const copyrightPath = process.argv[4] ?? '/usr/share/doc/netbase/copyright';
const outPath = fileURLToPath(new URL('../../lib/ports/services.ts', import.meta.url));

function installedNetbaseVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'netbase'], { encoding: 'utf8' }).trim();
  } catch {
    console.error('netbase version unknown: pass it as the second argument (e.g. 6.4)');
    process.exit(2);
  }
}

/** The `Copyright:` holders and the `License:` short name of the `Files: *` paragraph (DEP-5 format). */
function netbaseTerms(path: string): { holders: string[]; license: string } {
  const text = readFileSync(path, 'utf8');
  const para = text.split(/\n\s*\n/).find((p) => /^Files:\s*\*\s*$/m.test(p));
  if (!para) throw new Error(`${path}: no "Files: *" paragraph`);
  const holders: string[] = [];
  let license = '';
  let field = '';
  for (const line of para.split('\n')) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m) {
      field = m[1]!;
      if (field === 'Copyright' && m[2]) holders.push(m[2].trim());
      if (field === 'License') license = m[2]!.trim();
    } else if (field === 'Copyright' && line.trim()) {
      holders.push(line.trim());
    }
  }
  if (holders.length === 0 || !license) throw new Error(`${path}: no Copyright or License field`);
  return { holders: holders.map((h) => h.replace(/^Copyright\s+/i, '')), license };
}

const terms = netbaseTerms(copyrightPath);
const LICENSE_NAMES: Record<string, string> = { 'GPL-2': 'GNU General Public License, version 2' };
const licenseText = LICENSE_NAMES[terms.license] ? `${terms.license} (${LICENSE_NAMES[terms.license]})` : terms.license;

/** Wraps space-separated words into lines of at most `width` characters. */
function wrap(words: string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) lines.push(line);
  return lines;
}

interface Entry {
  proto: 'tcp' | 'udp';
  port: number;
  name: string;
}

const entries: Entry[] = [];
const seen = new Set<string>();
for (const raw of readFileSync(servicesPath, 'utf8').split('\n')) {
  const line = raw.replace(/#.*/, '').trim();
  if (line === '') continue;
  const [name, portProto] = line.split(/\s+/);
  const m = /^(\d+)\/(tcp|udp)$/.exec(portProto ?? '');
  if (!name || !m) continue; // ddp, sctp and anything else that is not a TCP/UDP port
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`${servicesPath}: unexpected service name ${name}`);
  const entry: Entry = { proto: m[2] as Entry['proto'], port: Number(m[1]), name };
  const key = `${entry.proto}/${entry.port}`;
  if (seen.has(key)) throw new Error(`${servicesPath}: ${key} listed twice`);
  seen.add(key);
  entries.push(entry);
}
entries.sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));

const tcp = entries.filter((e) => e.proto === 'tcp').length;
const udp = entries.length - tcp;
const encode = (proto: Entry['proto']) =>
  '`\n' +
  wrap(
    entries.filter((e) => e.proto === proto).map((e) => `${e.port} ${e.name}`),
    112,
  ).join('\n') +
  '\n`';

const sourceText =
  `Registered service names: Debian netbase ${version}, /etc/services (${tcp} TCP and ${udp} UDP entries), ` +
  "which follows IANA's Service Name and Transport Protocol Port Number Registry. Only facts are used " +
  '(service name, port, protocol). Terms stated by netbase\'s debian/copyright: ' +
  `Copyright ${terms.holders.join('; ')}. License: ${licenseText}.`;

const out = `/**
 * Registered service names of TCP and UDP ports — GENERATED, do not edit by hand.
 *
 * Source: Debian netbase ${version}, /etc/services (${tcp} TCP and ${udp} UDP entries), which follows IANA's
 * Service Name and Transport Protocol Port Number Registry. Kept: the first name, port and protocol of each line —
 * facts of the registry; aliases, comments and layout are not copied.
 * Terms, as netbase's debian/copyright states them for all its files (Files: *):
${terms.holders.map((h) => ` *   Copyright ${h}`).join('\n')}
 *   License: ${licenseText}.
 * Regenerate: node --import tsx scripts/ports/services-from-netbase.ts [/etc/services] [netbase-version] [copyright]
 */

export const SERVICES_SOURCE =
${wrap(sourceText.split(' '), 100)
  .map((l, i, all) => `  ${JSON.stringify(i < all.length - 1 ? `${l} ` : l)}`)
  .join(' +\n')};

/** Number of TCP and UDP entries taken from netbase. */
export const SERVICES_COUNT = { tcp: ${tcp}, udp: ${udp} } as const;

// "<port> <name>" pairs separated by white space, ascending by port: one string per protocol, parsed once on
// import (lib/ports/index.ts). Names are [A-Za-z0-9._-] only, so a template literal holds them verbatim.
export const TCP_SERVICES = ${encode('tcp')};

export const UDP_SERVICES = ${encode('udp')};
`;

writeFileSync(outPath, out);
console.log(`wrote ${outPath}: ${tcp} tcp + ${udp} udp from netbase ${version}`);

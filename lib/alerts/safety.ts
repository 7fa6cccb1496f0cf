/**
 * Guards against hostile JSON. A full walk of every parsed object would cost about as much as JSON.parse
 * itself, so cheap tests on the raw text (a substring, a character count) decide whether the precise checks
 * on the parsed value need to run at all.
 */

/** A sensor line is a few KB; anything past 64 KiB is not an alert and would only cost parse time. */
export const MAX_LINE_BYTES = 65_536;

/** Deeper values are never legitimate alerts, and some later consumer might recurse over them. */
export const MAX_DEPTH = 32;

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isLineTooLong(line: string): boolean {
  if (line.length > MAX_LINE_BYTES) return true;
  // Only a line that could exceed the limit once encoded as UTF-8 (up to 3 bytes per UTF-16 unit) is measured.
  return line.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES;
}

/**
 * How many `{` and `[` characters the text holds, counting no further than `cap + 1`. Depth never exceeds
 * this count, so a typical alert line (a dozen of them) is cleared by a few indexOf calls.
 */
export function countOpeners(text: string, cap: number): number {
  let openers = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) {
    if (++openers > cap) return openers;
  }
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) {
    if (++openers > cap) return openers;
  }
  return openers;
}

/**
 * Exact depth test of JSON text, skipping string contents (brackets in strings do not nest). Linear, and
 * stops at the first level past `limit`, so a nesting bomb costs a scan rather than a parse that builds
 * millions of containers.
 */
export function exceedsDepth(text: string, limit = MAX_DEPTH): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Jump to the closing quote: the next one preceded by an even number of backslashes.
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j === -1) return false; // unterminated string: JSON.parse rejects the text anyway
        let backslashes = 0;
        while (text.charCodeAt(j - 1 - backslashes) === 92) backslashes++;
        if ((backslashes & 1) === 0) break;
      }
      i = j;
    } else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return false;
}

/**
 * Exact depth check on a parsed value; the walk descends only into containers and stops at `limit`, so its
 * own recursion is bounded. For an alert line of a few KB it is several times faster than exceedsDepth
 * on the text; JSON.parse itself is iterative in V8, so parsing first is safe.
 */
export function nestsDeeperThan(value: unknown, limit = MAX_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && nestsDeeperThan(item, limit - 1)) return true;
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item === 'object' && item !== null && nestsDeeperThan(item, limit - 1)) return true;
  }
  return false;
}

// One regex over the three words is several times faster than three `includes` of the quoted words: V8's
// substring search re-builds its skip tables on every call when the first character (`"`) is common.
const FORBIDDEN_WORD = /__proto__|constructor|prototype/;

/**
 * Whether the text might hold a forbidden key. Without escapes a key appears verbatim; a `\u` escape could
 * spell one in disguise (`"\u005f_proto__"`), so its presence also calls for the precise walk. False
 * positives (a signature that says "constructor") only cost that walk.
 */
export function mayHaveForbiddenKey(text: string): boolean {
  return FORBIDDEN_WORD.test(text) || text.includes('\\u');
}

/**
 * The first forbidden key anywhere in a parsed JSON value, or undefined. Recursion is safe: callers only walk
 * values that passed the depth check.
 */
export function findForbiddenKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findForbiddenKey(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return key;
    const found = findForbiddenKey((value as Record<string, unknown>)[key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A parsed value that is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

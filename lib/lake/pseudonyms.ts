/**
 * The pseudonyms of addresses (DESIGN §13), made cheaply enough for the ingest budget.
 *
 * The value is exactly `pseudonym()` of lib/lake/facts.ts — HMAC-SHA256 (RFC 2104) of the address under the
 * deployment's key, first 16 bytes, base64url — so facts written before and after this module agree. Only the
 * way it is computed differs, for two measured reasons (`npm run bench`, `ingest.factsCpuOverParse`):
 *
 *  - Node's createHmac costs a few microseconds per call, almost all of it per-call overhead (a new native
 *    object, the key imported again, two digests across the binding), not hashing: an address is one SHA-256
 *    block. HMAC's two keyed blocks (key ⊕ ipad, key ⊕ opad) do not depend on the message, so they are
 *    compressed once per key here and each address costs two SHA-256 compressions in plain JavaScript (FIPS
 *    180-4), about a quarter of createHmac's time. The construction is unchanged, so is its security argument.
 *  - Sources repeat from batch to batch (a scanner is seen by a sensor for hours), so pseudonyms are kept per
 *    container in a bounded map: a repeated source costs one lookup. The map holds what the key already gives
 *    whoever holds it, in the same process as the key, so it exposes nothing new. Eviction is first-in
 *    first-out (a hit costs no reordering); its bound keeps a flood of distinct sources from growing memory.
 *
 * Anything that is not a short ASCII string (a normalized address always is) falls back to createHmac.
 */
import { createHash, createHmac } from 'node:crypto';

/** SHA-256 round constants (FIPS 180-4 §4.2.2). */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 initial hash value (FIPS 180-4 §5.3.3). */
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** The message schedule, shared: compressions run one at a time on one thread. */
const W = new Int32Array(64);

/** One SHA-256 compression of the block in W[0..15], from the chaining value `from` into `out`. */
function compress(from: Int32Array, out: Int32Array): void {
  for (let t = 16; t < 64; t++) {
    const x = W[t - 15]!;
    const y = W[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
  }
  let a = from[0]!, b = from[1]!, c = from[2]!, d = from[3]!, e = from[4]!, f = from[5]!, g = from[6]!, h = from[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t]! + W[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = (from[0]! + a) | 0;
  out[1] = (from[1]! + b) | 0;
  out[2] = (from[2]! + c) | 0;
  out[3] = (from[3]! + d) | 0;
  out[4] = (from[4]! + e) | 0;
  out[5] = (from[5]! + f) | 0;
  out[6] = (from[6]! + g) | 0;
  out[7] = (from[7]! + h) | 0;
}

/** The chaining value after HMAC's first block: the key (hashed first if longer than a block) XOR the pad byte. */
function keyedState(key: Uint8Array, pad: number): Int32Array {
  const k = key.length > 64 ? new Uint8Array(createHmacKeyDigest(key)) : key;
  const block = new Uint8Array(64).fill(pad);
  for (let i = 0; i < k.length; i++) block[i]! ^= k[i]!;
  for (let i = 0; i < 16; i++) W[i] = (block[4 * i]! << 24) | (block[4 * i + 1]! << 16) | (block[4 * i + 2]! << 8) | block[4 * i + 3]!;
  const state = new Int32Array(8);
  compress(IV, state);
  return state;
}

/** RFC 2104: a key longer than the block is replaced by its hash (through Node: once per key, not per address). */
function createHmacKeyDigest(key: Uint8Array): Buffer {
  return createHash('sha256').update(key).digest();
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The longest message that fits one block after HMAC's keyed block: 64 − 1 (0x80) − 8 (length) bytes. */
const MAX_ONE_BLOCK = 55;

/** Addresses kept per container: ~150 bytes each, so at most ~8 MB. */
export const PSEUDONYM_CACHE_ENTRIES = 50_000;

export class Pseudonyms {
  private readonly inner: Int32Array;
  private readonly outer: Int32Array;
  private readonly mid = new Int32Array(8);
  private readonly out = new Int32Array(8);
  private readonly known = new Map<string, string>();

  constructor(
    private readonly key: Uint8Array,
    private readonly maxEntries: number = PSEUDONYM_CACHE_ENTRIES,
  ) {
    this.inner = keyedState(key, 0x36);
    this.outer = keyedState(key, 0x5c);
  }

  /** The address's pseudonym: the same string as `pseudonym(key, ip)`. */
  of(ip: string): string {
    let p = this.known.get(ip);
    if (p === undefined) {
      p = this.compute(ip);
      if (this.known.size >= this.maxEntries) this.known.delete(this.known.keys().next().value!);
      this.known.set(ip, p);
    }
    return p;
  }

  /** How many pseudonyms are kept (for tests and the bench). */
  get size(): number {
    return this.known.size;
  }

  /** Forgets the kept pseudonyms (the bench measures the cost of addresses never seen before this way). */
  clear(): void {
    this.known.clear();
  }

  private compute(ip: string): string {
    const n = ip.length;
    if (n > MAX_ONE_BLOCK) return this.fallback(ip);
    W.fill(0, 0, 16);
    for (let i = 0; i < n; i++) {
      const c = ip.charCodeAt(i);
      if (c > 0x7f) return this.fallback(ip);
      W[i >> 2]! |= c << (24 - 8 * (i & 3));
    }
    // Padding of the inner message: 0x80, zeros, its length in bits (the keyed block included).
    W[n >> 2]! |= 0x80 << (24 - 8 * (n & 3));
    W[15] = (64 + n) * 8;
    compress(this.inner, this.mid);
    // The outer message: the inner digest (32 bytes), padded; 96 bytes in all with the keyed block.
    for (let i = 0; i < 8; i++) W[i] = this.mid[i]!;
    W[8] = 0x80000000;
    W.fill(0, 9, 15);
    W[15] = 96 * 8;
    compress(this.outer, this.out);
    return base64url16(this.out);
  }

  private fallback(ip: string): string {
    return createHmac('sha256', this.key).update(ip).digest().subarray(0, 16).toString('base64url');
  }
}

/** The first 16 bytes of a digest (four big-endian words) as unpadded base64url: 22 characters. */
function base64url16(words: Int32Array): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 4; i++) {
    const word = words[i]!;
    for (let shift = 24; shift >= 0; shift -= 8) {
      acc = (acc << 8) | ((word >>> shift) & 0xff);
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        s += B64URL[(acc >>> bits) & 63];
      }
      acc &= (1 << bits) - 1;
    }
  }
  return bits > 0 ? s + B64URL[(acc << (6 - bits)) & 63] : s;
}

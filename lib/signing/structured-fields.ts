/**
 * A small, strict Structured Field Values parser and serializer (RFC 8941), covering what HTTP
 * Message Signatures (RFC 9421) and Digest Fields (RFC 9530) need: Dictionaries, Lists and Items,
 * Inner Lists, Parameters, and the bare item types integer, decimal, string, token, byte sequence
 * and boolean.
 *
 * Parse failures throw a plain `Error` (message starts with "structured field:"); callers turn it
 * into the error their protocol calls for. Parsing is strict on purpose: RFC 8941 §4.2 says that a
 * field that fails to parse is ignored as a whole, never "repaired".
 */

/** An sf-token (RFC 8941 §3.3.4). A class so that it can be told apart from an sf-string. */
export class Token {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** An sf-decimal (RFC 8941 §3.3.2). A class so that `1.0` survives a round trip as a decimal. */
export class Decimal {
  constructor(readonly value: number) {}
}

/** integer → number, decimal → Decimal, string → string, token → Token, byte sequence → Uint8Array, boolean → boolean */
export type BareItem = number | Decimal | string | Token | Uint8Array | boolean;

/** Parameters keep insertion order; a repeated key overwrites the value in place (RFC 8941 §4.2.3.2). */
export type Parameters = Map<string, BareItem>;

export interface Item {
  readonly kind: 'item';
  readonly value: BareItem;
  readonly params: Parameters;
}

export interface InnerList {
  readonly kind: 'inner';
  readonly items: Item[];
  readonly params: Parameters;
}

export type Member = Item | InnerList;
export type Dictionary = Map<string, Member>;
export type List = Member[];

export function item(value: BareItem, params: Parameters = new Map()): Item {
  return { kind: 'item', value, params };
}

export function innerList(items: Item[], params: Parameters = new Map()): InnerList {
  return { kind: 'inner', items, params };
}

// ---------------------------------------------------------------------------------------------
// Character classes. Lookup tables keep the hot path (Signature-Input on every request) cheap.

const SP = 0x20;
const HTAB = 0x09;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || isLcAlpha(c);
}

/** tchar of RFC 9110 §5.6.2. */
const TCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) TCHAR[c] = 1;
}

/** base64 alphabet of RFC 4648 §4 (not base64url, RFC 8941 §3.3.5). */
const B64 = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (isAlpha(c) || isDigit(c) || c === 0x2b /* + */ || c === 0x2f /* / */) B64[c] = 1;
}

function isKeyChar(c: number): boolean {
  return isLcAlpha(c) || isDigit(c) || c === 0x5f /* _ */ || c === 0x2d /* - */ || c === 0x2e /* . */ || c === 0x2a /* * */;
}

function isTokenChar(c: number): boolean {
  // RFC 8941 §3.3.4: tchar, ":" and "/" may follow the first character.
  return (c < 128 && TCHAR[c] === 1) || c === 0x3a || c === 0x2f;
}

// ---------------------------------------------------------------------------------------------
// Parsing (RFC 8941 §4.2)

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new Error(`structured field: ${what} at offset ${this.i}`);
  }

  peek(): number {
    // NaN past the end compares false with everything, which every caller relies on.
    return this.s.charCodeAt(this.i);
  }

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  skipSP(): void {
    while (this.s.charCodeAt(this.i) === SP) this.i++;
  }

  skipOWS(): void {
    let c = this.s.charCodeAt(this.i);
    while (c === SP || c === HTAB) c = this.s.charCodeAt(++this.i);
  }

  /** §4.2: top level — leading SP, the structure, trailing SP, then nothing. */
  finish(): void {
    this.skipSP();
    if (!this.atEnd()) this.fail('unexpected trailing characters');
  }

  /** §4.2.2 */
  dictionary(): Dictionary {
    const dict: Dictionary = new Map();
    while (!this.atEnd()) {
      const key = this.key();
      let member: Member;
      if (this.peek() === 0x3d /* = */) {
        this.i++;
        member = this.itemOrInnerList();
      } else {
        // A bare key is boolean true with parameters.
        member = item(true, this.parameters());
      }
      dict.set(key, member);
      if (this.afterMember()) break;
    }
    return dict;
  }

  /** §4.2.1 */
  list(): List {
    const list: List = [];
    while (!this.atEnd()) {
      list.push(this.itemOrInnerList());
      if (this.afterMember()) break;
    }
    return list;
  }

  /** OWS, then end of input (true) or "," OWS and another member (false). A trailing comma fails. */
  private afterMember(): boolean {
    this.skipOWS();
    if (this.atEnd()) return true;
    if (this.peek() !== 0x2c /* , */) this.fail('expected "," between members');
    this.i++;
    this.skipOWS();
    if (this.atEnd()) this.fail('trailing "," after the last member');
    return false;
  }

  itemOrInnerList(): Member {
    return this.peek() === 0x28 /* ( */ ? this.innerList() : this.item();
  }

  /** §4.2.1.2 */
  innerList(): InnerList {
    this.i++; // "("
    const items: Item[] = [];
    for (;;) {
      this.skipSP();
      if (this.atEnd()) this.fail('unterminated inner list');
      if (this.peek() === 0x29 /* ) */) {
        this.i++;
        return innerList(items, this.parameters());
      }
      items.push(this.item());
      const c = this.peek();
      if (c !== SP && c !== 0x29) this.fail('expected " " or ")" in inner list');
    }
  }

  /** §4.2.3 */
  item(): Item {
    const value = this.bareItem();
    return item(value, this.parameters());
  }

  /** §4.2.3.2 */
  parameters(): Parameters {
    const params: Parameters = new Map();
    while (this.peek() === 0x3b /* ; */) {
      this.i++;
      this.skipSP();
      const key = this.key();
      let value: BareItem = true;
      if (this.peek() === 0x3d /* = */) {
        this.i++;
        value = this.bareItem();
      }
      params.set(key, value);
    }
    return params;
  }

  /** §4.2.3.3 */
  key(): string {
    const start = this.i;
    const c = this.peek();
    if (!(isLcAlpha(c) || c === 0x2a)) this.fail('expected a key (lower-case letter or "*")');
    this.i++;
    while (isKeyChar(this.peek())) this.i++;
    return this.s.slice(start, this.i);
  }

  /** §4.2.3.1 */
  bareItem(): BareItem {
    const c = this.peek();
    if (c === 0x2d /* - */ || isDigit(c)) return this.number();
    if (c === 0x22 /* " */) return this.string();
    if (c === 0x2a /* * */ || isAlpha(c)) return this.token();
    if (c === 0x3a /* : */) return this.byteSequence();
    if (c === 0x3f /* ? */) return this.boolean();
    return this.fail('expected an item');
  }

  /** §4.2.4: at most 15 integer digits; decimals at most 12 + 3 digits. */
  number(): number | Decimal {
    const start = this.i;
    let sign = 1;
    if (this.peek() === 0x2d) {
      sign = -1;
      this.i++;
    }
    if (!isDigit(this.peek())) this.fail('expected a digit');
    const digitsStart = this.i;
    let dot = -1;
    for (;;) {
      const c = this.peek();
      if (isDigit(c)) {
        this.i++;
      } else if (c === 0x2e /* . */ && dot < 0) {
        if (this.i - digitsStart > 12) this.fail('too many integer digits in a decimal');
        dot = this.i;
        this.i++;
      } else {
        break;
      }
      const len = this.i - digitsStart;
      if (dot < 0 && len > 15) this.fail('integer has more than 15 digits');
      if (dot >= 0 && len > 16) this.fail('decimal is too long');
    }
    if (dot < 0) {
      return sign * Number(this.s.slice(digitsStart, this.i));
    }
    const frac = this.i - dot - 1;
    if (frac < 1) this.fail('decimal ends with "."');
    if (frac > 3) this.fail('decimal has more than 3 fractional digits');
    return new Decimal(Number(this.s.slice(start, this.i)));
  }

  /** §4.2.5: printable ASCII; "\" may only escape '"' and "\". */
  string(): string {
    this.i++; // opening quote
    let out = '';
    let runStart = this.i;
    for (;;) {
      const c = this.peek();
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) {
        out += this.s.slice(runStart, this.i);
        this.i++;
        return out;
      }
      if (c === 0x5c /* \ */) {
        out += this.s.slice(runStart, this.i);
        const next = this.s.charCodeAt(this.i + 1);
        if (next !== 0x22 && next !== 0x5c) {
          this.i++;
          this.fail('invalid escape in string');
        }
        out += String.fromCharCode(next);
        this.i += 2;
        runStart = this.i;
        continue;
      }
      if (c < 0x20 || c > 0x7e) this.fail('string contains a character outside printable ASCII');
      this.i++;
    }
  }

  /** §4.2.6 */
  token(): Token {
    const start = this.i;
    this.i++;
    while (isTokenChar(this.peek())) this.i++;
    return new Token(this.s.slice(start, this.i));
  }

  /** §4.2.7: base64 between colons. Missing "=" padding is tolerated as the RFC advises. */
  byteSequence(): Uint8Array {
    this.i++; // opening colon
    const start = this.i;
    let pad = 0;
    for (;;) {
      const c = this.peek();
      if (Number.isNaN(c)) this.fail('unterminated byte sequence');
      if (c === 0x3a) break;
      if (c === 0x3d /* = */) {
        pad++;
      } else if (pad > 0 || c >= 128 || B64[c] !== 1) {
        this.fail('invalid base64 in byte sequence');
      }
      this.i++;
    }
    const b64 = this.s.slice(start, this.i);
    this.i++; // closing colon
    const dataLen = b64.length - pad;
    if (pad > 2 || dataLen % 4 === 1 || (pad > 0 && b64.length % 4 !== 0)) {
      this.i = start;
      this.fail('malformed base64 length or padding in byte sequence');
    }
    return Buffer.from(b64, 'base64');
  }

  /** §4.2.8 */
  boolean(): boolean {
    this.i++; // "?"
    const c = this.peek();
    if (c === 0x31 || c === 0x30) {
      this.i++;
      return c === 0x31;
    }
    return this.fail('expected "?0" or "?1"');
  }
}

/** Parses a Dictionary field value (RFC 8941 §4.2 with §4.2.2). */
export function parseDictionary(input: string): Dictionary {
  const p = new Parser(input);
  p.skipSP();
  const d = p.dictionary();
  p.finish();
  return d;
}

/** Parses a List field value (RFC 8941 §4.2 with §4.2.1). */
export function parseList(input: string): List {
  const p = new Parser(input);
  p.skipSP();
  const l = p.list();
  p.finish();
  return l;
}

/** Parses an Item field value (RFC 8941 §4.2 with §4.2.3). */
export function parseItem(input: string): Item {
  const p = new Parser(input);
  p.skipSP();
  const it = p.item();
  p.finish();
  return it;
}

// ---------------------------------------------------------------------------------------------
// Serialization (RFC 8941 §4.1). Invalid input throws: we must never emit a field that a strict
// peer would reject, and RFC 9421 §2.3 needs a byte-exact canonical form.

const MAX_INTEGER = 999_999_999_999_999;

export function serializeKey(key: string): string {
  if (key.length === 0) throw new Error('structured field: empty key');
  const c0 = key.charCodeAt(0);
  if (!(isLcAlpha(c0) || c0 === 0x2a)) throw new Error(`structured field: invalid key ${JSON.stringify(key)}`);
  for (let i = 1; i < key.length; i++) {
    if (!isKeyChar(key.charCodeAt(i))) throw new Error(`structured field: invalid key ${JSON.stringify(key)}`);
  }
  return key;
}

export function serializeString(s: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      out += s.slice(runStart, i) + '\\';
      runStart = i;
    } else if (c < 0x20 || c > 0x7e) {
      throw new Error('structured field: strings may only contain printable ASCII');
    }
  }
  return out + s.slice(runStart) + '"';
}

function serializeInteger(n: number): string {
  if (!Number.isInteger(n) || Math.abs(n) > MAX_INTEGER) {
    throw new Error(`structured field: ${n} is not an integer in the allowed range`);
  }
  return String(n);
}

/** §4.1.5: round half to even at 3 fractional digits, no trailing zeros, at least one digit. */
function serializeDecimal(d: number): string {
  if (!Number.isFinite(d)) throw new Error('structured field: decimal must be finite');
  const scaled = d * 1000;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  let rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  if (Object.is(rounded, -0)) rounded = 0;
  if (Math.abs(Math.trunc(rounded / 1000)) >= 1e12) throw new Error('structured field: decimal too large');
  const fixed = (rounded / 1000).toFixed(3);
  return fixed.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '.0');
}

function serializeToken(t: Token): string {
  const v = t.value;
  const c0 = v.charCodeAt(0);
  let ok = v.length > 0 && (isAlpha(c0) || c0 === 0x2a);
  for (let i = 1; ok && i < v.length; i++) ok = isTokenChar(v.charCodeAt(i));
  if (!ok) throw new Error(`structured field: invalid token ${JSON.stringify(v)}`);
  return v;
}

export function serializeBareItem(v: BareItem): string {
  switch (typeof v) {
    case 'number':
      return serializeInteger(v);
    case 'string':
      return serializeString(v);
    case 'boolean':
      return v ? '?1' : '?0';
    default:
      if (v instanceof Token) return serializeToken(v);
      if (v instanceof Decimal) return serializeDecimal(v.value);
      return `:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}:`;
  }
}

export function serializeParams(params: Parameters): string {
  let out = '';
  for (const [k, v] of params) {
    // §4.1.1.2: a true value is written as the bare key.
    out += v === true ? `;${serializeKey(k)}` : `;${serializeKey(k)}=${serializeBareItem(v)}`;
  }
  return out;
}

export function serializeItem(it: Item): string {
  return serializeBareItem(it.value) + serializeParams(it.params);
}

/** §4.1.1.1: "(" items separated by one SP ")" then parameters. */
export function serializeInnerList(list: InnerList): string {
  let out = '(';
  for (let i = 0; i < list.items.length; i++) {
    if (i > 0) out += ' ';
    out += serializeItem(list.items[i]!);
  }
  return out + ')' + serializeParams(list.params);
}

export function serializeMember(m: Member): string {
  return m.kind === 'inner' ? serializeInnerList(m) : serializeItem(m);
}

export function serializeList(list: List): string {
  return list.map(serializeMember).join(', ');
}

export function serializeDictionary(dict: Dictionary): string {
  const parts: string[] = [];
  for (const [k, m] of dict) {
    // §4.1.2: a member whose value is Boolean true is written as the key plus parameters.
    if (m.kind === 'item' && m.value === true) parts.push(serializeKey(k) + serializeParams(m.params));
    else parts.push(`${serializeKey(k)}=${serializeMember(m)}`);
  }
  return parts.join(', ');
}

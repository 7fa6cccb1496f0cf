import { describe, expect, it } from 'vitest';
import {
  Decimal,
  Token,
  innerList,
  item,
  parseDictionary,
  parseItem,
  parseList,
  serializeBareItem,
  serializeDictionary,
  serializeInnerList,
  serializeList,
  type Item,
} from '../../lib/signing/structured-fields.js';

function only(input: string, key: string) {
  const m = parseDictionary(input).get(key);
  if (m === undefined) throw new Error(`no member ${key}`);
  return m;
}

describe('structured fields: bare items (RFC 8941 §4.2.3–4.2.8)', () => {
  it('integers and decimals', () => {
    expect(parseItem('42').value).toBe(42);
    expect(parseItem('-7').value).toBe(-7);
    expect(parseItem('999999999999999').value).toBe(999_999_999_999_999);
    const d = parseItem('-1.250').value;
    expect(d).toBeInstanceOf(Decimal);
    expect((d as Decimal).value).toBe(-1.25);
    expect(serializeBareItem(d)).toBe('-1.25');
    expect(serializeBareItem(new Decimal(2))).toBe('2.0');
    for (const bad of ['1000000000000000', '1.', '1.2345', '1234567890123.1', '-', '--1', '1..2']) {
      expect(() => parseItem(bad), bad).toThrow(/structured field/);
    }
  });

  it('strings with escapes', () => {
    expect(parseItem('"a \\"quoted\\" \\\\ word"').value).toBe('a "quoted" \\ word');
    expect(parseItem('""').value).toBe('');
    expect(serializeBareItem('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"');
    for (const bad of ['"unterminated', '"bad \\n escape"', '"tab\tinside"', '"caf\u00e9"']) {
      expect(() => parseItem(bad), bad).toThrow(/structured field/);
    }
    expect(() => serializeBareItem('line\nbreak')).toThrow();
  });

  it('tokens', () => {
    const t = parseItem('application/json').value;
    expect(t).toBeInstanceOf(Token);
    expect((t as Token).value).toBe('application/json');
    expect(parseItem('*foo:bar').value).toEqual(new Token('*foo:bar'));
    expect(() => serializeBareItem(new Token('1abc'))).toThrow();
  });

  it('byte sequences', () => {
    const b = parseItem(':AQID:').value;
    expect(b).toBeInstanceOf(Uint8Array);
    expect([...(b as Uint8Array)]).toEqual([1, 2, 3]);
    expect([...(parseItem(':aGVsbG8=:').value as Uint8Array)]).toEqual([...Buffer.from('hello')]);
    // Missing padding is tolerated (RFC 8941 §4.2.7).
    expect([...(parseItem(':aGVsbG8:').value as Uint8Array)]).toEqual([...Buffer.from('hello')]);
    expect(serializeBareItem(Buffer.from('hello'))).toBe(':aGVsbG8=:');
    for (const bad of [':aGVs bG8=:', ':aGVsbG8=', ':a:', ':aGVsbG8=x:', ':aG-_:', ':aGVsb===:']) {
      expect(() => parseItem(bad), bad).toThrow(/structured field/);
    }
  });

  it('booleans', () => {
    expect(parseItem('?1').value).toBe(true);
    expect(parseItem('?0').value).toBe(false);
    expect(() => parseItem('?2')).toThrow(/structured field/);
    expect(() => parseItem('?')).toThrow(/structured field/);
  });
});

describe('structured fields: parameters, inner lists, dictionaries, lists', () => {
  it('parameters keep order and bare keys are true', () => {
    const it = parseItem('abc;a=1;b="x";c;d=?0;  e=:AQ==:');
    expect([...it.params.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(it.params.get('c')).toBe(true);
    expect(it.params.get('d')).toBe(false);
    // A repeated key overwrites in place (§4.2.3.2).
    expect([...parseItem('x;a=1;b=2;a=3').params]).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('parses the Signature-Input shape and re-serializes it canonically', () => {
    const m = only(
      'sig1=( "@method"  "@path" "x";key="a" );created=1618884473;keyid="test-key"  , sig2=("date")',
      'sig1',
    );
    expect(m.kind).toBe('inner');
    if (m.kind !== 'inner') return;
    expect(m.items.map((i: Item) => i.value)).toEqual(['@method', '@path', 'x']);
    expect(m.items[2]!.params.get('key')).toBe('a');
    expect(m.params.get('created')).toBe(1618884473);
    expect(serializeInnerList(m)).toBe('("@method" "@path" "x";key="a");created=1618884473;keyid="test-key"');
  });

  it('dictionary members, OWS, bare keys and empty inner lists', () => {
    const d = parseDictionary('a=1,\tb=?0 , c;p=2, d=(), e=(1 2);q');
    expect([...d.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    const c = d.get('c');
    expect(c?.kind === 'item' && c.value === true && c.params.get('p') === 2).toBe(true);
    expect(serializeDictionary(d)).toBe('a=1, b=?0, c;p=2, d=(), e=(1 2);q');
    expect(parseDictionary('').size).toBe(0);
  });

  it('lists', () => {
    const l = parseList('sugar, tea, (rum "x");p');
    expect(l).toHaveLength(3);
    expect(serializeList(l)).toBe('sugar, tea, (rum "x");p');
  });

  it('builds and serializes inner lists with parameters (for @signature-params)', () => {
    const params = new Map<string, string | number>([
      ['created', 1700000000],
      ['keyid', 'sensor "1"'],
    ]);
    const list = innerList([item('@method'), item('@query-param', new Map([['name', 'id']]))], params);
    expect(serializeInnerList(list)).toBe('("@method" "@query-param";name="id");created=1700000000;keyid="sensor \\"1\\""');
    expect(serializeInnerList(innerList([]))).toBe('()');
  });

  it('rejects garbage', () => {
    const bad = [
      'a=1,',
      ',a=1',
      'a=1 b=2',
      'A=1',
      '1a=2',
      'a=(1 2',
      'a=(1,2)',
      'a=("x""y")',
      'a=1;',
      'a=1;B=2',
      'a==1',
      'a=@',
      'a=1 ,, b=2',
      'a=\u00e9',
      'a=1\n',
    ];
    for (const input of bad) {
      expect(() => parseDictionary(input), JSON.stringify(input)).toThrow(/structured field/);
    }
    expect(() => parseItem('1 2')).toThrow(/structured field/);
    expect(() => parseItem('')).toThrow(/structured field/);
    expect(() => parseList('a,')).toThrow(/structured field/);
  });

  it('leading/trailing SP at the top level is allowed, tabs are not', () => {
    expect(parseDictionary('  a=1  ').get('a')).toEqual(item(1));
    expect(() => parseDictionary('\ta=1')).toThrow(/structured field/);
  });
});

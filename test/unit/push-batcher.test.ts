/** Line splitting with byte offsets, and batch boundaries by count and by size. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Batcher, detectFormat, lineForBatch, type CutBatch } from '../../lib/client/batcher.js';
import { emptySummary, linesOfBatch, prepareBatch, prepareBatchFromNdjson } from '../../lib/client/delivery.js';
import { LineIntake } from '../../lib/client/push.js';
import { isBlank, LineSplitter, type Line } from '../../lib/client/lines.js';

const text = (l: Line | undefined) => l && { text: l.bytes?.toString('utf8'), start: l.start, end: l.end, number: l.number };

function splitAll(data: Buffer, chunkSizes: number[], max = 1 << 20): { lines: Line[]; last: Line | undefined } {
  const s = new LineSplitter(0, max);
  const lines: Line[] = [];
  let pos = 0;
  let i = 0;
  while (pos < data.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length] ?? 1);
    lines.push(...s.push(data.subarray(pos, pos + n)));
    pos += n;
  }
  return { lines, last: s.finish() };
}

describe('LineSplitter', () => {
  it('gives each line its byte range, across chunk boundaries, with CRLF and multi-byte text', () => {
    const data = Buffer.from('a\r\nbé\n\nlast');
    const { lines, last } = splitAll(data, [1]);
    expect(lines.map((l) => [l.bytes?.toString(), l.start, l.end, l.number])).toEqual([
      ['a', 0, 3, 1],
      ['bé', 3, 7, 2],
      ['', 7, 8, 3],
    ]);
    expect(text(last)).toEqual({ text: 'last', start: 8, end: 12, number: 4 });
    expect(isBlank(Buffer.from(' \t\r'))).toBe(true);
    expect(isBlank(Buffer.from(' x'))).toBe(false);
  });

  it('drops an over-long line without keeping its bytes, and resumes after it', () => {
    const long = 'x'.repeat(100);
    const s = new LineSplitter(10, 16);
    const out = [...s.push(Buffer.from(`ok\n${long.slice(0, 50)}`)), ...s.push(Buffer.from(`${long.slice(50)}\nnext\n`))];
    expect(out.map((l) => l.bytes?.toString())).toEqual(['ok', undefined, 'next']);
    expect(out[1]).toMatchObject({ start: 13, end: 114 });
    expect(out[2]).toMatchObject({ start: 114, end: 119 });
    expect(s.offset).toBe(119);
  });

  it('whatever the chunking, the same lines and offsets (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1 }), fc.boolean(), (texts, chunks, terminated) => {
        const clean = texts.map((t) => t.replace(/[\r\n]/g, ''));
        const data = Buffer.from(clean.join('\n') + (terminated ? '\n' : ''));
        const whole = splitAll(data, [data.length || 1]);
        const pieces = splitAll(data, chunks);
        expect(pieces.lines.map(text)).toEqual(whole.lines.map(text));
        expect(text(pieces.last)).toEqual(text(whole.last));
        const all = [...whole.lines, ...(whole.last ? [whole.last] : [])];
        // Contiguous ranges covering the input exactly.
        let pos = 0;
        for (const l of all) {
          expect(l.start).toBe(pos);
          pos = l.end;
        }
        expect(pos).toBe(data.length);
      }),
    );
  });
});

function feed(b: Batcher, lines: string[]): CutBatch[] {
  const cuts: CutBatch[] = [];
  let end = 0;
  for (const l of lines) {
    end += Buffer.byteLength(l) + 1;
    // A cut's bytes are only valid until the next call: keep copies.
    const cut = b.add(Buffer.from(l), end);
    if (cut) cuts.push({ ...cut, ndjson: Buffer.from(cut.ndjson) });
  }
  const rest = b.take();
  if (rest) cuts.push({ ...rest, ndjson: Buffer.from(rest.ndjson) });
  return cuts;
}

const linesOf = (c: CutBatch) => c.ndjson.toString('utf8').split('\n').slice(0, -1);

describe('Batcher', () => {
  it('cuts at exactly --batch-size lines, the rest in a last partial batch', () => {
    const cuts = feed(new Batcher({ maxLines: 3, maxBytes: 1 << 20 }), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(cuts.map(linesOf)).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
    expect(cuts.map((c) => [c.lines, c.start, c.end])).toEqual([[3, 0, 6], [3, 6, 12], [1, 12, 14]]);
  });

  it('cuts before a line that would take the body over the byte limit, and the body respects it', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(90, 'é'));
    const maxBytes = 1000;
    const cuts = feed(new Batcher({ maxLines: 1000, maxBytes }), lines);
    expect(cuts.flatMap(linesOf)).toEqual(lines);
    for (const c of cuts) {
      for (const format of ['eve', 'native'] as const) {
        const body = prepareBatchFromNdjson('s', c.ndjson, c.lines, format, false).body;
        expect(body.byteLength).toBeLessThanOrEqual(maxBytes);
      }
    }
    // Full batches are full: adding the next line would have overflowed.
    for (const [i, c] of cuts.slice(0, -1).entries()) {
      const next = linesOf(cuts[i + 1]!)[0]!;
      expect(c.ndjson.length + Buffer.byteLength(next) + 1 + 13).toBeGreaterThan(maxBytes);
    }
  });

  it('a cut stays intact while the next batch fills (two buffers)', () => {
    const b = new Batcher({ maxLines: 2, maxBytes: 40 });
    b.add(Buffer.from('x'.repeat(10)), 11);
    // Over the byte limit: the batch so far is cut, then this line starts the next one in the other buffer.
    const cut = b.add(Buffer.from('y'.repeat(20)), 32);
    expect(cut?.ndjson.toString()).toBe(`${'x'.repeat(10)}\n`);
    expect(b.size).toBe(1);
    expect(b.take()?.ndjson.toString()).toBe(`${'y'.repeat(20)}\n`);
  });

  it('a batch starts where the previous one ended, so skipped lines fall in the next range', () => {
    const b = new Batcher({ maxLines: 2, maxBytes: 1 << 20 }, 100);
    expect(b.add(Buffer.from('a'), 102)).toBeUndefined();
    const first = b.add(Buffer.from('b'), 104);
    expect(first).toMatchObject({ start: 100, end: 104 });
    // a blank line 104–105 is never added; the next batch's range starts at 104 and covers it
    b.add(Buffer.from('c'), 107);
    expect(b.take()).toMatchObject({ start: 104, end: 107, lines: 1 });
  });

  it('remembers when the oldest line of a partial batch arrived (time-based flush)', () => {
    const b = new Batcher({ maxLines: 10, maxBytes: 1 << 20 });
    expect(b.waitingSince).toBeUndefined();
    b.add(Buffer.from('a'), 2, 1000);
    b.add(Buffer.from('b'), 4, 5000);
    expect(b.waitingSince).toBe(1000);
    b.take();
    expect(b.waitingSince).toBeUndefined();
  });

  it('same lines, same batches and keys; bytes and strings build the same body (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 60 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 60, max: 400 }), (texts, maxLines, maxBytes) => {
        const lines = texts.map((t) => t.replace(/[\r\n]/g, '.'));
        const keys = (cuts: CutBatch[]) => cuts.map((c) => prepareBatchFromNdjson('s', c.ndjson, c.lines, 'eve', false).idempotencyKey);
        const a = feed(new Batcher({ maxLines, maxBytes }), lines);
        const b = feed(new Batcher({ maxLines, maxBytes }), lines);
        expect(keys(a)).toEqual(keys(b));
        expect(a.flatMap(linesOf)).toEqual(lines);
        for (const c of a) {
          expect(c.lines).toBeLessThanOrEqual(maxLines);
          expect(prepareBatchFromNdjson('s', c.ndjson, c.lines, 'eve', true).idempotencyKey).toBe(prepareBatch('s', linesOf(c), 'eve', true).idempotencyKey);
        }
      }),
    );
  });

  it('native batches: a JSON document of the canonical lines, split back into the same lines', () => {
    const lines = ['{"time":"2026-01-01T00:00:00Z","srcIp":"192.0.2.1"}', '{"time":"2026-01-01T00:00:01Z","srcIp":"192.0.2.2","signature":"a\\nb"}'];
    const cuts = feed(new Batcher({ maxLines: 10, maxBytes: 1 << 20 }), lines);
    const batch = prepareBatchFromNdjson('s', cuts[0]!.ndjson, 2, 'native', true);
    expect(batch).toEqual(prepareBatch('s', lines, 'native', true));
    expect(linesOfBatch(batch)).toEqual({ lines, format: 'native' });
  });
});

describe('formats', () => {
  it('detects EVE, native and (otherwise) Snort from a line', () => {
    expect(detectFormat('{"event_type":"alert"}')).toBe('eve');
    expect(detectFormat('{"time":"2026-01-01T00:00:00Z","srcIp":"192.0.2.1"}')).toBe('native');
    expect(detectFormat('{"seconds":1,"src_addr":"192.0.2.1"}')).toBe('snort');
  });

  it('re-serializes native lines canonically and rejects what is not a JSON object', () => {
    expect(lineForBatch('{ "srcIp" : "192.0.2.1" }', 'native')).toEqual({ text: '{"srcIp":"192.0.2.1"}' });
    expect(lineForBatch('[1]', 'native')).toEqual({ reject: 'not a JSON object' });
    expect(lineForBatch('{oops', 'native')).toEqual({ reject: 'not valid JSON' });
    expect(lineForBatch('{oops', 'eve')).toEqual({ text: '{oops' });
  });
});

describe('LineIntake', () => {
  it('drops blank and over-long lines, rejects bad native lines, and seals batches covering their byte ranges', () => {
    const summary = emptySummary();
    const rejects: string[] = [];
    const intake = new LineIntake(new Batcher({ maxLines: 2, maxBytes: 1 << 20 }), summary, { sensor: 's', gzip: false, onReject: (w, r) => rejects.push(`${w}: ${r}`) });
    const splitter = new LineSplitter(0, 64);
    const input = ['{"time":"2026-01-01T00:00:00Z","srcIp":"192.0.2.1"}', '   ', 'x'.repeat(100), '{oops', '{ "time": "2026-01-01T00:00:01Z", "srcIp": "192.0.2.2" }', '{"time":"2026-01-01T00:00:02Z","srcIp":"192.0.2.3"}'];
    splitter.each(Buffer.from(`${input.join('\n')}\n`), intake.sink);
    const sealed = intake.flush();
    expect(intake.format).toBe('native');
    expect(rejects).toEqual(['line 3: longer than 65536 bytes', 'line 4: not valid JSON']);
    expect(summary).toMatchObject({ lines: 4, rejected: 2 });
    expect(sealed.map((s) => [s.start, s.end, s.batch.lines])).toEqual([[0, 220, 2], [220, 272, 1]]);
    expect(linesOfBatch(sealed[0]!.batch)?.lines).toEqual([input[0], '{"time":"2026-01-01T00:00:01Z","srcIp":"192.0.2.2"}']);
  });
});

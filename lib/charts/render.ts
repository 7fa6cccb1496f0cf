/**
 * Spec → SVG (Vega, headless, no canvas) → PNG (sharp, i.e. librsvg + pango + fontconfig).
 *
 * Font isolation: fontconfig reads its configuration once, when sharp first lays out text, so
 * `ensureFontConfig()` must run before the first SVG with text is rasterised. Importing sharp does not
 * initialise fontconfig (measured with sharp 0.35), so a static import is fine; `svgToPng` calls
 * `ensureFontConfig()` on every call (a no-op after the first), and `configureChartFonts` lets a caller pick
 * another font directory before that.
 */

import sharp from 'sharp';
import * as vega from 'vega';
import type { Loader, Spec } from 'vega';
import { ensureFontConfig, type AppliedFontConfig, type FontConfigOptions } from './fonts.js';
import { textWidth } from './text-width.js';

// Vega sizes legends and thins overlapping axis labels from text widths; without a canvas it guesses 0.8 em
// per character, far wider than DejaVu Sans. The bundled font's real advance widths make the layout match
// what librsvg then draws. This replaces a process-wide Vega default, which only these charts use.
interface TextItem {
  text?: unknown;
  fontSize?: unknown;
  fontWeight?: unknown;
}
// Exported by vega at run time but missing from its type declarations.
const { textMetrics } = vega as unknown as {
  textMetrics: { width: (item: TextItem, text?: unknown) => number };
};
textMetrics.width = (item, text) =>
  textWidth(String(text ?? item.text ?? ''), Number(item.fontSize ?? 11), isBold(item.fontWeight));

function isBold(weight: unknown): boolean {
  return weight === 'bold' || weight === 'bolder' || (typeof weight === 'number' && weight >= 600);
}

// Specs carry their data inline; a loader that refuses everything keeps a spec from reading files or URLs.
const refusingLoader = {
  load: () => Promise.reject(new Error('chart specs must carry their data inline')),
  sanitize: () => Promise.reject(new Error('chart specs must carry their data inline')),
  http: () => Promise.reject(new Error('no network access from chart specs')),
  file: () => Promise.reject(new Error('no file access from chart specs')),
} as unknown as Loader;

/** Point the rasteriser at a font directory other than the bundled default; call before the first render. */
export function configureChartFonts(options: FontConfigOptions): AppliedFontConfig {
  return ensureFontConfig(options);
}

interface KeptView {
  view: vega.View;
  /** The drawings on this view, one after another: each sets its values, then reads its SVG. */
  queue: Promise<unknown>;
}

/** A top-level signal that only holds a value (no expression or event updates it): settable from outside. */
function settable(signal: NonNullable<Spec['signals']>[number]): boolean {
  return !('update' in signal) && !('init' in signal) && !('on' in signal) && !('push' in signal);
}

/** A data set's inline rows, when it has them as a list (what a kept view can be given again). */
const inlineRows = (data: NonNullable<Spec['data']>[number]): object[] | undefined =>
  'values' in data && Array.isArray(data.values) ? (data.values as object[]) : undefined;

const valueOf = (signal: NonNullable<Spec['signals']>[number]): unknown => (signal as { value?: unknown }).value;

export function shapeOf(spec: Spec): string {
  return JSON.stringify({
    ...spec,
    description: undefined,
    signals: spec.signals?.map((s) => (settable(s) ? { ...s, value: undefined } : s)),
    data: spec.data?.map((d) => (inlineRows(d) ? { ...d, values: undefined } : d)),
  });
}

/**
 * Views kept for drawing again, by the shape of their spec: the spec without the values of its signals and
 * its inline data. A spec whose shape is kept is drawn by setting its signals and data on that view, not by
 * parsing it and building a dataflow again — what most of a chart's layout costs (measured over the archive
 * copies of a 380-day history: 8–9 ms a copy on a view of its own, 4 ms on the kept view; in the render job's
 * first run over the 190-day bench history, the archive copies took 2.7 s instead of 3.9–4.1 s).
 * The specs that vary from one drawing to the next (the daily graph and its archive copies) put all that varies
 * in signals and data for this; any other spec is simply a shape of its own. A few shapes are kept, the least
 * recently drawn given up first.
 */
export class KeptViews {
  private readonly kept = new Map<string, KeptView>();
  /** Drawings made on a kept view rather than on a new one. */
  reused = 0;

  constructor(private readonly size = 4) {}

  draw(spec: Spec): Promise<string> {
    const shape = shapeOf(spec);
    const found = this.kept.get(shape);
    const entry = found ?? this.keep(spec);
    this.kept.delete(shape);
    this.kept.set(shape, entry);
    if (found) this.reused++;
    const { view } = entry;
    const drawn = entry.queue.then(async () => {
      if (found) {
        // Lists emptied first: a legend entry whose label changes in place keeps its old width in the legend's
        // layout (vega 6.4), while one made anew is measured.
        const signals = (spec.signals ?? []).filter(settable).map((s) => ({ name: s.name, value: valueOf(s) }));
        for (const s of signals) if (Array.isArray(s.value)) view.signal(s.name, []);
        await view.runAsync();
        for (const s of signals) view.signal(s.name, s.value);
        for (const d of spec.data ?? []) {
          const rows = inlineRows(d);
          if (rows) view.data(d.name, rows);
        }
        view.description(spec.description ?? '');
      }
      return view.toSVG();
    });
    entry.queue = drawn.catch(() => {
      // A view that failed to draw is not drawn on again.
      if (this.kept.get(shape) === entry) this.kept.delete(shape);
      view.finalize();
    });
    return drawn;
  }

  /** A new view of the spec; the least recently drawn view goes when there are `size` already. */
  private keep(spec: Spec): KeptView {
    const oldest = this.kept.size >= this.size ? this.kept.keys().next().value : undefined;
    if (oldest !== undefined) {
      const gone = this.kept.get(oldest)!;
      this.kept.delete(oldest);
      void gone.queue.finally(() => gone.view.finalize());
    }
    const view = new vega.View(vega.parse(spec), { renderer: 'none', loader: refusingLoader, logLevel: vega.Error });
    return { view, queue: Promise.resolve() };
  }
}

const views = new KeptViews();

export function renderSvg(spec: Spec): Promise<string> {
  return views.draw(spec);
}

export interface PngOptions {
  /** pixel density multiplier: 2 gives a 2400×1000 PNG for a 1200×500 chart */
  scale?: number;
  /** zlib level, 6 unless given (the archive copies take a faster one: lib/render/objects.ts) */
  compressionLevel?: number;
}

export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Buffer> {
  ensureFontConfig();
  const scale = options.scale ?? 1;
  // librsvg maps SVG user units to pixels at 72 dpi, so density 72 is one pixel per unit. Every chart is drawn
  // on an opaque white background (the specs' `background`), so the alpha channel is 255 throughout and the PNG
  // is written as RGB: the same pixels, a tenth smaller, and a quarter less to compress (measured on a
  // 1200×500 archive copy: encoding 6.5 → 4.8 ms of its ~19 ms).
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .removeAlpha()
    .png({ compressionLevel: options.compressionLevel ?? 6, adaptiveFiltering: false })
    .toBuffer();
}

export async function renderChart(spec: Spec, options: PngOptions = {}): Promise<{ svg: string; png: Buffer }> {
  const svg = await renderSvg(spec);
  return { svg, png: await svgToPng(svg, options) };
}

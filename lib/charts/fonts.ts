import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The one family the charts are drawn in; its TTFs and fonts.conf live in `assets/fonts/`. */
export const FONT_FAMILY = 'DejaVu Sans';

/**
 * What the specs put in `font-family`. The rasteriser only ever sees DejaVu Sans (fontconfig is isolated), but
 * the published SVG is also opened in browsers that may lack it: Verdana has nearly the same metrics.
 */
export const CHART_FONT = `${FONT_FAMILY}, Verdana, Geneva, sans-serif`;

export const FONT_CONFIG_FILE_NAME = 'fonts.conf';

export interface FontConfigOptions {
  /** Directory holding fonts.conf and the TTFs; default: found next to this module (see `defaultFontDir`). */
  fontDir?: string;
}

export interface AppliedFontConfig {
  fontDir: string;
  configFile: string;
}

/**
 * Where the font directory may sit relative to this module: `assets/fonts` at the repository root when running
 * from source, or `fonts/` / `assets/fonts/` beside a bundled render function.
 */
function candidateFontDirs(): string[] {
  // A CommonJS bundle has no import.meta.url; then only an explicit fontDir can say where the fonts are.
  const url = typeof import.meta.url === 'string' ? import.meta.url : undefined;
  if (!url?.startsWith('file:')) return [];
  const here = dirname(fileURLToPath(url));
  return [join(here, '..', '..', 'assets', 'fonts'), join(here, 'fonts'), join(here, 'assets', 'fonts')];
}

/** The bundled font directory, or undefined when none of the usual places holds a fonts.conf. */
export function defaultFontDir(): string | undefined {
  return candidateFontDirs().find((dir) => existsSync(join(dir, FONT_CONFIG_FILE_NAME)));
}

let applied: AppliedFontConfig | undefined;

/**
 * Points fontconfig (used by librsvg inside sharp) at the bundled fonts.conf and nothing else.
 *
 * Fontconfig reads its configuration once per process, when the first text is laid out, and never again.
 * Measured with sharp 0.35: importing sharp, and rasterising images without text, do not initialise it, so
 * setting the variables any time before the first SVG with text is rasterised is enough; after that a change
 * has no effect. That is why a second call asking for another directory throws instead of silently doing
 * nothing. Idempotent for the same directory.
 */
export function ensureFontConfig(options: FontConfigOptions = {}): AppliedFontConfig {
  const wanted = options.fontDir ?? applied?.fontDir ?? defaultFontDir();
  if (wanted === undefined) {
    throw new Error(
      `bundled fonts not found (looked for ${FONT_CONFIG_FILE_NAME} in ${candidateFontDirs().join(', ') || 'no place: no module URL'}); pass fontDir`,
    );
  }
  const fontDir = resolve(wanted);
  if (applied) {
    if (applied.fontDir === fontDir) return applied;
    throw new Error(
      `fontconfig already points at ${applied.fontDir}; it reads its configuration once per process, so ${fontDir} cannot take effect`,
    );
  }
  const configFile = join(fontDir, FONT_CONFIG_FILE_NAME);
  if (!existsSync(configFile)) throw new Error(`no ${FONT_CONFIG_FILE_NAME} in font directory ${fontDir}`);
  // FONTCONFIG_FILE replaces /etc/fonts/fonts.conf entirely, so no system font directory is ever scanned;
  // FONTCONFIG_PATH keeps any relative lookups inside the same directory.
  process.env.FONTCONFIG_FILE = configFile;
  process.env.FONTCONFIG_PATH = fontDir;
  applied = { fontDir, configFile };
  return applied;
}

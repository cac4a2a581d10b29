/**
 * How wide a text is in the bundled font, for vega's layout when it renders in Node.
 *
 * Vega places axis titles, legends and anything laid out beside text by the width of that text.
 * In a browser it asks a canvas; in Node, without the optional `canvas` package, it guesses 0.8 em
 * per character, about 45% too wide for DejaVu Sans. A long panel title then counts far wider than
 * the panel, and the legend placed after it leaves a gap (60 px in exercise 2's descent figure).
 * Here widths come from the font files themselves: each character's advance width (`hmtx`) plus the
 * kerning between pairs (`kern`), which is what a canvas reports for the same font. Vega supports a
 * width function of one's own for this (`textMetrics.width`; vl-convert, Vega's own converter, sets
 * one the same way).
 */
import * as fs from "node:fs";

import { FIGURE_FONT, figureFontFiles } from "./style";

/** The parts of a TrueType font needed for widths: units per em, advances and kerning by glyph. */
interface FontWidths {
  readonly unitsPerEm: number;
  /** Glyph id of a UTF-16 code unit (the BMP), 0 (".notdef") when the font has none. */
  readonly glyph: (code: number) => number;
  readonly advance: (glyph: number) => number;
  /** Kerning between two glyphs, in font units, keyed `left * 65536 + right`. */
  readonly kerning: ReadonlyMap<number, number>;
}

/** Reads the tables a width needs from a TrueType file: head, hhea, hmtx, cmap (format 4) and kern (format 0). */
export function readFontWidths(bytes: Uint8Array): FontWidths {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  const count = view.getUint16(4);
  for (let i = 0; i < count; i++) {
    const at = 12 + 16 * i;
    const tag = String.fromCharCode(...bytes.subarray(at, at + 4));
    tables.set(tag, view.getUint32(at + 8));
  }
  const table = (tag: string): number => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`the font has no ${tag} table`);
    return at;
  };

  const unitsPerEm = view.getUint16(table("head") + 18);
  const nMetrics = view.getUint16(table("hhea") + 34);
  const hmtx = table("hmtx");
  const advance = (g: number): number => view.getUint16(hmtx + 4 * Math.min(g, nMetrics - 1));

  // cmap: the Windows Unicode BMP subtable (platform 3, encoding 1), which is format 4.
  const cmap = table("cmap");
  let format4: number | undefined;
  for (let i = 0; i < view.getUint16(cmap + 2); i++) {
    const rec = cmap + 4 + 8 * i;
    if (view.getUint16(rec) === 3 && view.getUint16(rec + 2) === 1) format4 = cmap + view.getUint32(rec + 4);
  }
  if (format4 === undefined || view.getUint16(format4) !== 4) throw new Error("the font has no format-4 cmap");
  const segments = view.getUint16(format4 + 6) / 2;
  const ends = format4 + 14;
  const starts = ends + 2 * segments + 2;
  const deltas = starts + 2 * segments;
  const rangeOffsets = deltas + 2 * segments;
  const glyphs = new Map<number, number>();
  const glyph = (code: number): number => {
    let found = glyphs.get(code);
    if (found !== undefined) return found;
    found = 0;
    for (let s = 0; s < segments; s++) {
      if (code > view.getUint16(ends + 2 * s)) continue;
      const start = view.getUint16(starts + 2 * s);
      if (code < start) break;
      const delta = view.getInt16(deltas + 2 * s);
      const rangeOffset = view.getUint16(rangeOffsets + 2 * s);
      if (rangeOffset === 0) {
        found = (code + delta) & 0xffff;
      } else {
        const g = view.getUint16(rangeOffsets + 2 * s + rangeOffset + 2 * (code - start));
        found = g === 0 ? 0 : (g + delta) & 0xffff;
      }
      break;
    }
    glyphs.set(code, found);
    return found;
  };

  // kern: the classic table's horizontal format-0 subtables (pairs of glyphs and a value).
  const kerning = new Map<number, number>();
  const kern = tables.get("kern");
  if (kern !== undefined && view.getUint16(kern) === 0) {
    let sub = kern + 4;
    for (let t = 0; t < view.getUint16(kern + 2); t++) {
      const length = view.getUint16(sub + 2);
      const coverage = view.getUint16(sub + 4);
      if (coverage >> 8 === 0 && (coverage & 1) === 1) {
        const pairs = view.getUint16(sub + 6);
        for (let p = 0; p < pairs; p++) {
          const at = sub + 14 + 6 * p;
          kerning.set(view.getUint16(at) * 65536 + view.getUint16(at + 2), view.getInt16(at + 4));
        }
      }
      sub += length;
    }
  }
  return { unitsPerEm, glyph, advance, kerning };
}

let fonts: { regular: FontWidths; bold: FontWidths } | undefined;

/** The bundled font's widths, read once per process (a cache of the font files, not a setting). */
function figureFonts(): { regular: FontWidths; bold: FontWidths } {
  if (fonts === undefined) {
    const [regular, bold] = figureFontFiles().map((file) => readFontWidths(fs.readFileSync(file)));
    fonts = { regular: regular as FontWidths, bold: bold as FontWidths };
  }
  return fonts;
}

/**
 * The advance width of `text` set in the figures' font at `fontSize` px, kerning included.
 *
 * @example
 * ```ts
 * textWidth("σ = 0.5", 12); // ≈ 42.6 px
 * ```
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const font = bold ? figureFonts().bold : figureFonts().regular;
  let units = 0;
  let previous = -1;
  for (let i = 0; i < text.length; i++) {
    const g = font.glyph(text.charCodeAt(i));
    units += font.advance(g) + (previous < 0 ? 0 : (font.kerning.get(previous * 65536 + g) ?? 0));
    previous = g;
  }
  return (units * fontSize) / font.unitsPerEm;
}

/** The text item fields vega hands to a width function. */
interface TextItem {
  readonly font?: unknown;
  readonly fontSize?: unknown;
  readonly fontWeight?: unknown;
  readonly limit?: unknown;
}

/** Vega's `textMetrics` object: `width(item, text)` is what its layout asks. */
export interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

let users = 0;
let previousWidth: VegaTextMetrics["width"] | undefined;

/**
 * Runs `render` with vega measuring text in {@link FIGURE_FONT} by its real widths; text in other
 * fonts is measured as before. Vega's setting is put back when the last render running (renders
 * overlap when awaited together) has finished.
 */
export async function withFigureTextMetrics<T>(metrics: VegaTextMetrics, render: () => Promise<T>): Promise<T> {
  if (users++ === 0) {
    const previous = metrics.width;
    previousWidth = previous;
    metrics.width = (item, text) => {
      if (item.font !== FIGURE_FONT) return previous(item, text);
      const size = item.fontSize == null ? 11 : Number(item.fontSize) || 0;
      const weight = item.fontWeight;
      const bold = weight === "bold" || weight === "bolder" || Number(weight) >= 600;
      const width = textWidth(text == null ? "" : String(text).trim(), size, bold);
      // Vega cuts text longer than `limit` with an ellipsis when it draws it; its width is then the limit.
      const limit = Number(item.limit);
      return limit > 0 ? Math.min(width, limit) : width;
    };
  }
  try {
    return await render();
  } finally {
    if (--users === 0) {
      metrics.width = previousWidth as VegaTextMetrics["width"];
      previousWidth = undefined;
    }
  }
}

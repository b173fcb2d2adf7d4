/** Plain-text tables for people: first column left-aligned, the others right-aligned unless told. */

import { visibleLength } from './io.js';

export type Align = 'left' | 'right';

function pad(text: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - visibleLength(text)));
  return align === 'left' ? text + fill : fill + text;
}

/** Render a header and rows; `align[i]` defaults to left for column 0 and right for the rest. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = header.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const alignOf = (i: number): Align => align[i] ?? (i === 0 ? 'left' : 'right');
  const line = (cells: readonly string[]) =>
    widths
      .map((w, i) => pad(cells[i] ?? '', w, alignOf(i)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

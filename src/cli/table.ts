/** A cell, optionally painted after padding so colour codes do not upset the widths. */
export type Cell = string | { readonly text: string; readonly paint: (s: string) => string };

const text = (cell: Cell): string => (typeof cell === 'string' ? cell : cell.text);

/** Columns padded to their widest cell, two spaces apart; the last one is not padded. */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => text(row[i] ?? '').length)),
  );
  const line = (cells: readonly Cell[]): string =>
    cells
      .map((cell, i) => {
        const last = i === cells.length - 1;
        const padded = last ? text(cell) : text(cell).padEnd(widths[i] ?? 0);
        return typeof cell === 'string' ? padded : cell.paint(padded);
      })
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** Times as people scan them in a table: to the second, in UTC. */
export function shortTime(iso: string | undefined): string {
  return iso === undefined ? '-' : iso.replace(/\.\d+Z$/, 'Z');
}

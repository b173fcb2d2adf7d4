/** Parses the guest's result table out of a console log (see guest/report.ts for the line format). */

export interface GuestCase {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface GuestFigure {
  readonly name: string;
  readonly value: string;
  readonly unit: string;
}

export interface GuestResults {
  readonly booted: boolean;
  readonly cases: readonly GuestCase[];
  readonly figures: readonly GuestFigure[];
  /** Passed/failed counts from the closing summary line; undefined if the guest never printed it. */
  readonly summary: { readonly passed: number; readonly failed: number } | undefined;
}

export function parseGuestResults(console: string): GuestResults {
  const cases: GuestCase[] = [];
  const figures: GuestFigure[] = [];
  let booted = false;
  let summary: GuestResults['summary'];
  for (const raw of console.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const at = line.indexOf('E2E-');
    if (at < 0) continue;
    const fields = line.slice(at).split('|');
    switch (fields[0]) {
      case 'E2E-BOOTED':
        booted = true;
        break;
      case 'E2E-CASE':
        cases.push({ name: fields[1] ?? '?', ok: fields[2] === 'PASS', detail: fields.slice(3).join('|') });
        break;
      case 'E2E-FIGURE':
        figures.push({ name: fields[1] ?? '?', value: fields[2] ?? '?', unit: fields[3] ?? '' });
        break;
      case 'E2E-SUMMARY':
        summary = { passed: Number(fields[1]), failed: Number(fields[2]) };
        break;
    }
  }
  return { booted, cases, figures, summary };
}

/** Whether a boot passed: the guest finished, ran at least one case, and none failed. */
export function bootPassed(results: GuestResults): boolean {
  return (
    results.summary !== undefined &&
    results.summary.failed === 0 &&
    results.cases.length > 0 &&
    results.cases.every((c) => c.ok) &&
    results.summary.passed === results.cases.length
  );
}

export function formatTable(title: string, results: GuestResults): string {
  const width = Math.max(4, ...results.cases.map((c) => c.name.length));
  const rows = results.cases.map((c) => `  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`);
  const figs = results.figures.map((f) => `  ${f.name.padEnd(width + 6)}  ${f.value} ${f.unit}`);
  return [
    `== ${title}`,
    ...rows,
    ...(figs.length > 0 ? ['  -- figures (TCG-emulated, not hardware)', ...figs] : []),
  ].join('\n');
}

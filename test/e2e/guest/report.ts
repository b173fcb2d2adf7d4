/**
 * The guest's result table, as lines the host harness parses from the serial
 * console: `E2E-CASE|<name>|PASS or FAIL|<detail>` and `E2E-FIGURE|<name>|<value>|<unit>`,
 * closed by `E2E-SUMMARY|<passed>|<failed>`. One line per case so a console log
 * interleaved with kernel messages still parses.
 */

export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export class Report {
  readonly cases: CaseResult[] = [];

  /** Run one case; a thrown error is a failure with its message as the detail. */
  async run(name: string, body: () => Promise<string> | string): Promise<boolean> {
    try {
      const detail = await body();
      this.record(name, true, detail);
      return true;
    } catch (error) {
      this.record(name, false, describe(error));
      return false;
    }
  }

  record(name: string, ok: boolean, detail: string): void {
    this.cases.push({ name, ok, detail });
    console.log(`E2E-CASE|${name}|${ok ? 'PASS' : 'FAIL'}|${oneLine(detail)}`);
  }

  figure(name: string, value: number, unit: string): void {
    console.log(`E2E-FIGURE|${name}|${Number.isInteger(value) ? value : value.toFixed(2)}|${unit}`);
  }

  summary(): number {
    const failed = this.cases.filter((c) => !c.ok).length;
    console.log(`E2E-SUMMARY|${this.cases.length - failed}|${failed}`);
    return failed;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? `(${code})` : ''}: ${error.message}`;
  }
  return String(error);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n|]+/g, ' ').slice(0, 300);
}

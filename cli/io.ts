/**
 * Where a command writes, and whether it may use colour and redraw lines.
 * Colour follows the usual conventions: only on a terminal, never when NO_COLOR
 * is set to anything non-empty (https://no-color.org) or `--no-color` was given.
 */

/** The output side of one command run. */
export interface Io {
  /** Data and tables (stdout). */
  out(text: string): void;
  /** Progress, notes and errors (stderr), so piped stdout stays clean. */
  err(text: string): void;
  /** Whether stdout is a terminal (live redraw, tables meant for people). */
  readonly outIsTTY: boolean;
  /** Whether stderr is a terminal (progress bars). */
  readonly errIsTTY: boolean;
  readonly style: Style;
}

/** Text decorations; identity functions when colour is off. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

function ansi(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const identity = (text: string): string => text;

export function createStyle(enabled: boolean): Style {
  if (!enabled) {
    return {
      enabled,
      bold: identity,
      dim: identity,
      green: identity,
      red: identity,
      yellow: identity,
      cyan: identity,
    };
  }
  return {
    enabled,
    bold: ansi(1, 22),
    dim: ansi(2, 22),
    green: ansi(32, 39),
    red: ansi(31, 39),
    yellow: ansi(33, 39),
    cyan: ansi(36, 39),
  };
}

/** Whether colour is allowed: a TTY, NO_COLOR unset or empty, and not switched off on the command line. */
export function colourAllowed(isTTY: boolean, env: NodeJS.ProcessEnv, switchedOn = true): boolean {
  const noColor = env.NO_COLOR;
  return switchedOn && isTTY && (noColor === undefined || noColor === '');
}

/** The process's own stdout/stderr as an Io. */
export function processIo(colour: boolean): Io {
  const outIsTTY = process.stdout.isTTY === true;
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    outIsTTY,
    errIsTTY: process.stderr.isTTY === true,
    style: createStyle(colourAllowed(outIsTTY, process.env, colour)),
  };
}

/** The visible width of a string that may contain ANSI colour codes. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/driver/errors.js';
import {
  type ProbeOptionSchema,
  parseProbeOptions,
  trackProbeOptions,
} from '../../core/driver/probe-options.js';

const SCHEMA = {
  poll: { kind: 'int', min: 1, max: 1000, default: 20 },
  depth: { kind: 'int', min: 1 },
  irq: { kind: 'enum', values: ['msix', 'intx', 'poll'], default: 'msix' },
  inline: { kind: 'bool', default: true },
  faults: { kind: 'string', default: '' },
} as const satisfies ProbeOptionSchema;

function thrown(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

describe('parseProbeOptions', () => {
  it('gives the defaults when nothing is set, undefined where there is none', () => {
    const parsed = parseProbeOptions({}, SCHEMA, 'test driver');
    expect(parsed).toEqual({ poll: 20, depth: undefined, irq: 'msix', inline: true, faults: '' });
  });

  it('parses each kind', () => {
    const parsed = parseProbeOptions(
      { poll: '5', depth: '+64', irq: 'intx', inline: 'off', faults: 'drop@3' },
      SCHEMA,
      'test driver',
    );
    expect(parsed).toEqual({ poll: 5, depth: 64, irq: 'intx', inline: false, faults: 'drop@3' });
    for (const word of ['', 'on', 'true', 'yes', '1', 'ON'])
      expect(parseProbeOptions({ inline: word }, SCHEMA, 'd').inline).toBe(true);
    for (const word of ['off', 'false', 'no', '0'])
      expect(parseProbeOptions({ inline: word }, SCHEMA, 'd').inline).toBe(false);
  });

  it('refuses an unknown name and lists the valid ones', () => {
    const error = thrown(() => parseProbeOptions({ pol: '5' }, SCHEMA, 'ring driver'));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe(
      'ring driver: unknown option "pol"; valid options: poll, depth, irq, inline, faults',
    );
    expect(thrown(() => parseProbeOptions({ x: '1' }, {}, 'null driver')).message).toBe(
      'null driver: unknown option "x"; it takes no options',
    );
  });

  it('refuses an inherited name (no prototype lookups)', () => {
    expect(thrown(() => parseProbeOptions({ toString: '1' }, SCHEMA, 'd')).message).toContain(
      'unknown option "toString"',
    );
  });

  it('names the option and the value when a value does not fit', () => {
    const cases: [Record<string, string>, string][] = [
      [{ poll: 'abc' }, 'd: option "poll" must be an integer from 1 to 1000, got "abc"'],
      [{ poll: '0' }, 'd: option "poll" must be an integer from 1 to 1000, got "0"'],
      [{ poll: '1001' }, 'd: option "poll" must be an integer from 1 to 1000, got "1001"'],
      [{ poll: '2.5' }, 'd: option "poll" must be an integer from 1 to 1000, got "2.5"'],
      [{ poll: '' }, 'd: option "poll" must be an integer from 1 to 1000, got ""'],
      [{ poll: '1e2' }, 'd: option "poll" must be an integer from 1 to 1000, got "1e2"'],
      [{ depth: '0' }, 'd: option "depth" must be an integer ≥ 1, got "0"'],
      [
        { depth: '99999999999999999999' },
        'd: option "depth" must be an integer ≥ 1, got "99999999999999999999"',
      ],
      [{ irq: 'msi' }, 'd: option "irq" must be one of msix, intx, poll, got "msi"'],
      [{ inline: 'maybe' }, 'd: option "inline" must be on or off, got "maybe"'],
    ];
    for (const [options, message] of cases)
      expect(thrown(() => parseProbeOptions(options, SCHEMA, 'd')).message).toBe(message);
  });
});

describe('trackProbeOptions', () => {
  const MODEL = {
    engines: { kind: 'int', min: 1, max: 64, default: 4 },
  } as const satisfies ProbeOptionSchema;
  const DRIVER = { poll: { kind: 'int', min: 1, default: 20 } } as const satisfies ProbeOptionSchema;

  it('lets two readers each take their own names', () => {
    const tracked = trackProbeOptions({ engines: '8', poll: '5' });
    expect(parseProbeOptions(tracked.options, MODEL, 'simulated card').engines).toBe(8);
    expect(parseProbeOptions(tracked.options, DRIVER, 'ring driver').poll).toBe(5);
    expect(() => tracked.check('device spec "sim:ring?engines=8&poll=5"')).not.toThrow();
    expect(tracked.readers).toEqual(['simulated card', 'ring driver']);
  });

  it("refuses the names no reader knew, listing every reader's", () => {
    const tracked = trackProbeOptions({ engins: '8' });
    parseProbeOptions(tracked.options, MODEL, 'simulated card');
    parseProbeOptions(tracked.options, MODEL, 'simulated card'); // read twice: listed once
    parseProbeOptions(tracked.options, DRIVER, 'ring driver');
    const error = thrown(() => tracked.check('device spec "sim:ring?engins=8"'));
    expect(error.message).toBe(
      'device spec "sim:ring?engins=8": unknown option "engins"; valid options: engines (simulated card); poll (ring driver)',
    );
  });

  it('still refuses bad values at once', () => {
    const tracked = trackProbeOptions({ engines: 'abc' });
    expect(thrown(() => parseProbeOptions(tracked.options, MODEL, 'simulated card')).message).toBe(
      'simulated card: option "engines" must be an integer from 1 to 64, got "abc"',
    );
  });

  it('does not second-guess readers that parse by hand', () => {
    const tracked = trackProbeOptions({ anything: '1' });
    expect(() => tracked.check('device spec "x?anything=1"')).not.toThrow();
  });

  it('hides the ledger from keys, JSON and structured clone; a copy is parsed strictly', () => {
    const tracked = trackProbeOptions({ engines: '8', poll: '5' });
    expect(Object.keys(tracked.options)).toEqual(['engines', 'poll']);
    expect(JSON.stringify(tracked.options)).toBe('{"engines":"8","poll":"5"}');
    expect(structuredClone(tracked.options)).toEqual({ engines: '8', poll: '5' });
    expect(() => parseProbeOptions({ ...tracked.options }, MODEL, 'simulated card')).toThrow(
      /unknown option "poll"/,
    );
  });
});

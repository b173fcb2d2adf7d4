/**
 * The part of `pkaccel --help` that depends on what is registered: the drivers
 * (with their role, what they match and their spec options) and the cards the
 * simulator can make. Nothing here names a device family: a driver registered
 * from outside (a test, a third-party module) shows up the same way.
 */

import type { ProbeOptionSchema, RegistryListing } from '../index.js';

function optionList(options: ProbeOptionSchema | undefined): string {
  if (options === undefined) return '';
  const names = Object.entries(options).map(([name, spec]) =>
    spec.kind === 'int'
      ? `${name}=N`
      : spec.kind === 'enum'
        ? `${name}=${spec.values.join('|')}`
        : spec.kind === 'bool'
          ? `${name}=on|off`
          : `${name}=…`,
  );
  return names.length === 0 ? '' : `; options: ${names.join(' ')}`;
}

/** The help text's device section, from a registry listing. */
export function registryHelp(listing: RegistryListing): string {
  const lines = ['', 'Drivers registered:'];
  const width = Math.max(0, ...listing.drivers.map((d) => d.name.length));
  for (const d of listing.drivers) {
    const what =
      d.kind === 'virtual'
        ? `spec "${d.scheme}"${d.role === undefined ? '' : `, role ${d.role}`}`
        : `PCI ${d.ids?.join(' ') ?? ''}`;
    const description = d.description === undefined ? '' : ` — ${d.description}`;
    lines.push(`  ${d.name.padEnd(width)}  ${what}${optionList(d.options)}${description}`);
  }
  const hardware = listing.platforms.filter((p) => !p.simulated).flatMap((p) => p.schemes);
  if (hardware.length > 0)
    lines.push(
      `Cards on this machine: ${hardware.map((s) => `${s}:<address>`).join(', ')} (see \`pkaccel devices\`)`,
    );
  if (listing.simulated.length > 0) {
    const cards = listing.simulated.map(
      (c) => `${c.spec}${c.driver === undefined ? '' : ` (${c.driver})`}${c.offeredByDefault ? ' *' : ''}`,
    );
    lines.push(`Simulated cards: ${cards.join(', ')}`);
    if (listing.simulated.some((c) => c.offeredByDefault))
      lines.push('  * what the command uses when auto finds no card (it says so on stderr)');
  }
  const fallback = listing.drivers.find((d) => d.role === 'fallback');
  lines.push(
    `Device specs: <scheme>[:<target>][?<option>=<value>&…]; auto = the cards found` +
      `${fallback?.scheme === undefined ? '' : ` + ${fallback.scheme}`}.`,
  );
  return lines.join('\n');
}

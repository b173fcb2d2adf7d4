/**
 * The tsconfig of a consumer project type-checking code written against
 * pkaccel's types as a DOM-typed application would (lib DOM beside node's
 * types): test/api/dom-types and the packed-install test write it out.
 */

export function consumerTsconfig(
  files: readonly string[],
  extra: Readonly<Record<string, unknown>> = {},
): { compilerOptions: Record<string, unknown>; files: readonly string[] } {
  return {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023', 'DOM'],
      types: ['node'],
      strict: true,
      noEmit: true,
      ...extra,
    },
    files,
  };
}

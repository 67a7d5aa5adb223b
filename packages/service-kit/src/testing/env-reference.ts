import { readFileSync, writeFileSync } from 'node:fs';

const BLOCK = /<!-- env:start -->\n[\s\S]*?<!-- env:end -->/;

/**
 * The environment block of a README (between `<!-- env:start -->` and `<!-- env:end -->`) and the
 * one `reference` would make, for a test to compare. With `UPDATE_ENV_DOCS=1` it rewrites the
 * README first, so the test passes and the file is regenerated.
 *
 * @example
 * ```ts
 * const { actual, wanted } = envReferenceBlocks(new URL('../README.md', import.meta.url), environmentReference());
 * expect(actual).toBe(wanted);
 * ```
 */
export function envReferenceBlocks(readme: URL, reference: string): { readonly actual: string | undefined; readonly wanted: string } {
  const wanted = `<!-- env:start -->\n${reference}\n<!-- env:end -->`;
  if (process.env.UPDATE_ENV_DOCS === '1') writeFileSync(readme, readFileSync(readme, 'utf8').replace(BLOCK, wanted));
  return { actual: readFileSync(readme, 'utf8').match(BLOCK)?.[0], wanted };
}

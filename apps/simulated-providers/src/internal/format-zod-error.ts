import type { z } from 'zod';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? plain(value);
  } catch {
    return plain(value);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * Turns zod issues into one readable line. Our own schemas phrase their messages as "to be ..."
 * so an issue reads ``Expected `providers.alpha.errorRate` to be a number between 0 and 1, got 2``
 * (parse with `reportInput: true` to get the "got" part); zod's built-in messages are kept as
 * they are, prefixed with the path.
 */
export function formatZodError(error: z.ZodError, root: string): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length === 0 ? root : formatPath(issue.path);
      if (issue.message.startsWith('to ')) {
        const got = 'input' in issue ? `, got ${show(issue.input)}` : '';
        return `Expected \`${path}\` ${issue.message}${got}`;
      }
      return issue.path.length === 0 ? issue.message : `\`${path}\`: ${issue.message}`;
    })
    .join('; ');
}

/** What JSON cannot show (a function, a symbol, a bigint, a cycle), as text. */
function plain(value: unknown): string {
  switch (typeof value) {
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    case 'symbol':
      return value.toString();
    case 'bigint':
      return `${value}n`;
    default:
      return Object.prototype.toString.call(value);
  }
}

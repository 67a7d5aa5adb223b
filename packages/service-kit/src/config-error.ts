/**
 * A bad environment variable: the message names it, and `variable` holds its name.
 *
 * @example
 * ```ts
 * throw new ConfigError('PORT', 'Expected `PORT` to be an integer <= 65535, got "70000"');
 * ```
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    /** The variable that failed. */
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** An error as stored or sent between processes: its name, message and a string or number `code`. */
export interface ErrorJson {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
}

/** What of `error` survives storage: name, message and a string or number `code`; never its stack or other fields. */
export function errorToJson(error: Error): ErrorJson {
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? { name: error.name, message: error.message, code } : { name: error.name, message: error.message };
}

/** Rebuilds an error from {@link errorToJson}'s output: an `Error` with the same name, message and code. */
export function errorFromJson(json: { readonly name?: unknown; readonly message?: unknown; readonly code?: unknown }): Error {
  const error = new Error(typeof json.message === 'string' ? json.message : 'Unknown error');
  if (typeof json.name === 'string') error.name = json.name;
  if (typeof json.code === 'string' || typeof json.code === 'number') (error as Error & { code?: string | number }).code = json.code;
  return error;
}

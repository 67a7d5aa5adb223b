/** An error as stored or sent between processes: its name, message and a string or number `code`. */
export interface ErrorJson {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
  /** Present (true) when the error declared itself expected: a refusal by design, not a fault. */
  readonly expected?: true;
}

/** What of `error` survives storage: name, message, a string or number `code` and `expected`; never its stack or other fields. */
export function errorToJson(error: Error): ErrorJson {
  const code = (error as Error & { code?: unknown }).code;
  const json: { name: string; message: string; code?: string | number; expected?: true } = { name: error.name, message: error.message };
  if (typeof code === 'string' || typeof code === 'number') json.code = code;
  if ((error as Error & { expected?: unknown }).expected === true) json.expected = true;
  return json;
}

/** Rebuilds an error from {@link errorToJson}'s output: an `Error` with the same name, message and code. */
export function errorFromJson(json: { readonly name?: unknown; readonly message?: unknown; readonly code?: unknown; readonly expected?: unknown }): Error {
  const error = new Error(typeof json.message === 'string' ? json.message : 'Unknown error');
  if (typeof json.name === 'string') error.name = json.name;
  if (typeof json.code === 'string' || typeof json.code === 'number') (error as Error & { code?: string | number }).code = json.code;
  if (json.expected === true) (error as Error & { expected?: boolean }).expected = true;
  return error;
}

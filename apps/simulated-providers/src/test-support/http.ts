import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/**
 * The JSON bodies the simulated providers answer with: an OpenAI chat completion or model list,
 * an error, or an admin view. Every field is optional; each test asserts which are there.
 */
interface ResponseBody {
  readonly id?: string;
  readonly object?: string;
  readonly model?: string;
  readonly choices?: readonly { readonly index: number; readonly message: { readonly role: string; readonly content: string }; readonly finish_reason: string }[];
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number };
  readonly data?: readonly unknown[];
  readonly error?: { readonly message: string; readonly type: string; readonly code: string };
  readonly behaviour?: unknown;
  readonly providers?: Readonly<Record<string, { readonly behaviour: { readonly down: boolean } }>>;
  readonly stats?: unknown;
}

/** What {@link call} returns: the body parsed as JSON when it is JSON, else the raw text. */
export interface CallResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: ResponseBody;
}

/** Options of {@link call}. */
export interface CallOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON unless it is a string. */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/**
 * One HTTP request over a fresh connection (no keep-alive agent), so a test's client leaves no
 * socket behind and the server's close can be checked for open handles.
 */
export function call(url: string, { method = 'GET', headers = {}, body, signal }: CallOptions = {}): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = httpRequest(url, {
      method,
      agent: false,
      signal,
      headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    });
    // Resolve only once our socket has closed too, so no client handle outlives the call.
    let socketClosed = false;
    let onSocketClosed = (): void => {};
    req.on('socket', (socket) =>
      socket.once('close', () => {
        socketClosed = true;
        onSocketClosed();
      }),
    );
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        // A test reads the fields it expects; a non-JSON body stays a string (and has none of them).
        const result: CallResult = { status: res.statusCode ?? 0, headers: res.headers, body: parsed as ResponseBody };
        if (socketClosed) resolve(result);
        else onSocketClosed = () => resolve(result);
      });
    });
    req.end(payload);
  });
}

/** A chat-completions request body asking `question`. */
export function chatBody(question: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'sim-model', messages: [{ role: 'user', content: question }], ...extra };
}

/** Resolves once `predicate` holds, polling on the event loop (works under fake timers); rejects after `timeoutMs` of real time. */
export async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition did not hold within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

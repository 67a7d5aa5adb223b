import type { IncomingMessage, ServerResponse } from 'node:http';

/** Why a latency wait ended. */
export type WaitOutcome = 'elapsed' | 'disconnected' | 'closing';

/**
 * The latency waits in progress. A wait ends early when its client disconnects or when the server
 * starts closing, and it always clears its timer and its `close` listener, so no timer outlives
 * a request and `close()` never waits out a long simulated latency.
 */
export class Waits {
  readonly #pending = new Set<(outcome: WaitOutcome) => void>();
  #closing = false;

  /** Number of waits in progress. */
  get size(): number {
    return this.#pending.size;
  }

  wait(ms: number, req: IncomingMessage, res: ServerResponse): Promise<WaitOutcome> {
    if (res.destroyed || req.socket.destroyed) return Promise.resolve('disconnected');
    if (this.#closing) return Promise.resolve('closing');
    if (ms <= 0) return Promise.resolve('elapsed');
    return new Promise<WaitOutcome>((resolve) => {
      const finish = (outcome: WaitOutcome): void => {
        clearTimeout(timer);
        res.off('close', onClose);
        this.#pending.delete(finish);
        resolve(outcome);
      };
      // A ServerResponse emits 'close' when its connection goes away before the response ends.
      const onClose = (): void => finish('disconnected');
      const timer = setTimeout(finish, ms, 'elapsed');
      res.once('close', onClose);
      this.#pending.add(finish);
    });
  }

  /** Ends every wait with `'closing'`, and every later wait at once. */
  closeAll(): void {
    this.#closing = true;
    for (const finish of [...this.#pending]) finish('closing');
  }
}

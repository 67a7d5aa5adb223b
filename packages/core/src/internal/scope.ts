/**
 * A cancellation scope: a node in the tree of a run's cancellation.
 *
 * Aborting a scope aborts its children synchronously, without AbortSignal listeners between them,
 * so that the common path (nobody reads `ctx.signal`) allocates no AbortController at all.
 * The AbortSignal is created lazily, on the first read of `signal`.
 */
export class Scope {
  aborted = false;
  reason: unknown = undefined;
  private controller: AbortController | undefined;
  private children: Set<Scope> | undefined;
  private onAbortCallbacks: Array<(reason: unknown) => void> | undefined;
  /**
   * A single abort handler owned by whoever created the scope (a timeout, say): cheaper than
   * `onAbort()` on the hot path because it allocates no array and needs no removal.
   */
  handler: ((reason: unknown) => void) | undefined = undefined;

  constructor(readonly parent?: Scope) {
    if (parent) {
      if (parent.aborted) {
        this.aborted = true;
        this.reason = parent.reason;
      } else {
        (parent.children ??= new Set()).add(this);
      }
    }
  }

  /** The AbortSignal of this scope, created on first read. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Whether a signal has been handed out (someone may be listening). */
  get signalRead(): boolean {
    return this.controller !== undefined;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    // Snapshot the children first: an abort callback may dispose a child scope (detaching it), and
    // that child must still be aborted.
    const children = this.children;
    this.children = undefined;
    this.controller?.abort(reason);
    const handler = this.handler;
    if (handler !== undefined) {
      this.handler = undefined;
      try {
        handler(reason);
      } catch {
        // a handler must not stop propagation
      }
    }
    const cbs = this.onAbortCallbacks;
    if (cbs) {
      this.onAbortCallbacks = undefined;
      for (const cb of cbs) {
        try {
          cb(reason);
        } catch {
          // a callback must not stop propagation
        }
      }
    }
    if (children) for (const child of children) child.abort(reason);
  }

  /** Calls `cb` once when the scope aborts. Returns a function that removes it. */
  onAbort(cb: (reason: unknown) => void): () => void {
    if (this.aborted) {
      cb(this.reason);
      return noop;
    }
    (this.onAbortCallbacks ??= []).push(cb);
    return () => {
      const cbs = this.onAbortCallbacks;
      if (!cbs) return;
      const i = cbs.indexOf(cb);
      if (i >= 0) cbs.splice(i, 1);
    };
  }

  /** Detaches from the parent so a finished scope can be collected. */
  dispose(): void {
    this.parent?.children?.delete(this);
    this.onAbortCallbacks = undefined;
    this.handler = undefined;
  }
}

const noop = (): void => {};

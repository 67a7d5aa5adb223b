import { runOutcome, type WeftEvent } from '@weft/core';

/**
 * What one invocation did, counted from Weft's events while it ran: written as one CloudWatch
 * Embedded Metric Format line, because nothing scrapes a frozen function. CloudWatch turns the line
 * into metrics; any log pipeline can read it as JSON.
 */
export class InvocationMetrics {
  private outcome: 'succeeded' | 'rejected' | 'failed' | undefined;
  private durationMs = 0;
  private retries = 0;
  private timeouts = 0;
  private fallbacks = 0;
  private circuitRejections = 0;
  private cost = 0;

  constructor(private readonly workflow: string) {}

  /** Counts one event of this invocation. */
  record(e: WeftEvent): void {
    switch (e.type) {
      case 'run.finished':
        if (e.workflow === this.workflow) {
          this.outcome = e.outcome === 'success' ? 'succeeded' : runOutcome(e.error);
          this.durationMs = e.durationMs;
        }
        return;
      case 'retry.scheduled':
        this.retries++;
        return;
      case 'timeout.expired':
        this.timeouts++;
        return;
      case 'fallback.served':
        this.fallbacks++;
        return;
      case 'circuit.rejected':
        this.circuitRejections++;
        return;
      case 'cost.recorded':
        this.cost += e.amount;
        return;
      default:
        return;
    }
  }

  /** The EMF line: dimensions workflow and outcome, values for this invocation. No user data. */
  line(namespace: string, coldStart: boolean, status: number | undefined): string {
    const metrics = ['Runs', 'DurationMs', 'Retries', 'Timeouts', 'FallbacksServed', 'CircuitRejections', 'Cost', 'ColdStart'];
    const units: Record<string, string> = { DurationMs: 'Milliseconds', Cost: 'None' };
    return JSON.stringify({
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['Workflow', 'Outcome']], Metrics: metrics.map((Name) => ({ Name, Unit: units[Name] ?? 'Count' })) }] },
      Workflow: this.workflow,
      Outcome: this.outcome ?? 'failed',
      Runs: 1,
      DurationMs: Math.round(this.durationMs * 1000) / 1000,
      Retries: this.retries,
      Timeouts: this.timeouts,
      FallbacksServed: this.fallbacks,
      CircuitRejections: this.circuitRejections,
      Cost: this.cost,
      ColdStart: coldStart ? 1 : 0,
      ...(status === undefined ? {} : { StatusCode: status }),
    });
  }
}

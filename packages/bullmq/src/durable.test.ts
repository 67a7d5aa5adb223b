import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { isTimeoutError, step, ValidationError } from '@weft/core';
import { recordSpans } from '@weft/testing';
import { RedisServer, redisServerGate } from '@weft/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durable, type Durable } from './durable.js';

const gate = redisServerGate();
let n = 0;
const fresh = () => `{weft-test-${process.pid}-${++n}}`;

/** Polls until `check` holds; fails after `ms`. */
async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(gate.skip)('durable runs on BullMQ', () => {
  let redis: RedisServer;
  const open: Durable<never, unknown>[] = [];
  const track = <I, O>(d: Durable<I, O>): Durable<I, O> => (open.push(d as unknown as Durable<never, unknown>), d);
  beforeAll(async () => {
    if (gate.failure !== undefined) throw new Error(gate.failure);
    redis = await RedisServer.launch();
  });
  afterAll(async () => {
    await Promise.all(open.map((d) => d.close()));
    await redis?.kill();
  });

  it('runs a job and waits for it, carrying the correlation ID and joining the caller trace', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const spans = recordSpans();
    try {
      const seen: string[] = [];
      const greet = step('greet', (name: string, ctx) => (seen.push(ctx.correlationId), `hello ${name}`));
      const d = track(durable(greet, { connection: redis.url, prefix: fresh() }));
      d.worker();
      const caller = step('caller', () => d.run('ada'));
      expect(await caller.run(undefined, { correlationId: 'corr-1' })).toBe('hello ada');
      expect(seen).toEqual(['corr-1']);
      await until(() => spans.spans().some((s) => s.name === 'greet'));
      const byName = new Map(spans.spans().map((s) => [s.name, s]));
      expect(byName.get('greet')!.spanContext().traceId).toBe(byName.get('caller')!.spanContext().traceId);
    } finally {
      await spans.stop();
      propagation.disable();
      trace.disable();
    }
  });

  it('runs a job ID once: concurrent callers share the result, and a later caller gets it again', async () => {
    let calls = 0;
    const slow = step('slow', async (x: number) => (calls++, await new Promise((r) => setTimeout(r, 100)), x * 2));
    const d = track(durable(slow, { connection: redis.url, prefix: fresh() }));
    d.worker({ concurrency: 4 });
    const results = await Promise.all([1, 1, 1].map((x) => d.run(x, { jobId: 'order-7' })));
    expect(results).toEqual([2, 2, 2]);
    expect(await d.run(1, { jobId: 'order-7' })).toBe(2);
    expect(calls).toBe(1);
  });

  it("records a workflow's permanent error as the job's answer: rebuilt for the caller, never retried, not dead-lettered", async () => {
    let calls = 0;
    const strict = step('strict', (): number => {
      calls++;
      throw new ValidationError('strict', 'input', [{ path: ['quantity'], message: 'Too small' }]);
    });
    const d = track(durable(strict, { connection: redis.url, prefix: fresh(), attempts: 3, backoffMs: 10 }));
    d.worker();
    const error = await d.run(undefined as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationError', message: expect.stringContaining('quantity: Too small') as unknown, code: 'VALIDATION' });
    expect(calls).toBe(1);
    expect(await d.deadLetters.list()).toEqual([]);
  });

  it('retries a transient failure with backoff, dead-letters it after the last attempt, and replays it from there', async () => {
    let healthy = false;
    let calls = 0;
    const flaky = step('flaky', (x: string) => {
      calls++;
      if (!healthy) throw new Error('upstream 503');
      return x.toUpperCase();
    });
    const d = track(durable(flaky, { connection: redis.url, prefix: fresh(), attempts: 2, backoffMs: 10 }));
    d.worker();
    const events: string[] = [];
    d.onJob((e) => events.push(e.type));
    await expect(d.run('a', { jobId: 'job-a' })).rejects.toThrow('upstream 503');
    expect(calls).toBe(2);
    const [letter] = await d.deadLetters.list();
    expect(letter).toMatchObject({ jobId: 'job-a', input: 'a', error: 'upstream 503', attempts: 2 });
    expect(await d.deadLetters.inspect('job-a')).toMatchObject({ jobId: 'job-a' });
    await until(() => events.includes('failed'));
    expect(events).toEqual(['retried', 'failed']);
    healthy = true;
    await d.deadLetters.replay('job-a');
    await until(async () => (await d.status('job-a'))?.state === 'completed');
    expect((await d.status('job-a'))?.result).toEqual({ ok: true, output: 'A' });
    expect(await d.deadLetters.list()).toEqual([]);
  });

  it('stops waiting at the deadline with a TimeoutError while the job goes on', async () => {
    const d = track(durable(step('later', (x: number) => x + 1), { connection: redis.url, prefix: fresh() }));
    const error = await d.run(1, { jobId: 'late-1', timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    d.worker();
    await until(async () => (await d.status('late-1'))?.state === 'completed');
    expect(await d.run(1, { jobId: 'late-1' })).toBe(2);
  });

  it('takes over the job of a worker SIGKILLed mid-job', async () => {
    const prefix = fresh();
    let calls = 0;
    const d = track(durable(step('crashy', (x: number) => (calls++, x * 10)), { connection: redis.url, prefix }));
    const child = spawn(process.execPath, [fileURLToPath(new URL('./test-support/stuck-worker.mjs', import.meta.url)), redis.url, prefix, 'crashy'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const result = d.run(4, { jobId: 'crash-1', timeoutMs: 20_000 });
    await until(() => out.includes('took crash-1'));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    d.worker({ lockDurationMs: 1_000, stalledIntervalMs: 300 });
    expect(await result).toBe(40);
    expect(calls).toBe(1);
  }, 30_000);

  it('closes a worker gracefully: the active job finishes first', async () => {
    let finished = 0;
    let started!: () => void;
    const began = new Promise<void>((r) => (started = r));
    const d = track(durable(step('busy', async (x: number) => (started(), await new Promise((r) => setTimeout(r, 300)), finished++, x)), { connection: redis.url, prefix: fresh() }));
    const w = d.worker();
    const result = d.run(9);
    await began;
    await w.close();
    expect(finished).toBe(1);
    expect(await result).toBe(9);
    expect(await d.counts()).toMatchObject({ active: 0, completed: 1 });
  });

  it('rejects bad options with TypeErrors naming them', () => {
    const s = step('s', (x: number) => x);
    expect(() => durable(s, { connection: 'http://x' })).toThrow(/`connection`/);
    expect(() => durable(s, { connection: redis.url, attempts: 0 })).toThrow(/`attempts`/);
    expect(() => durable(s, { connection: redis.url, queue: 'has space' })).toThrow(/`queue`/);
    expect(() => durable(s, { connection: redis.url, retries: 1 } as never)).toThrow(/`retries`/);
    const d = track(durable(s, { connection: redis.url, prefix: fresh() }));
    expect(() => d.worker({ concurrency: 0 })).toThrow(/`concurrency`/);
    return expect(d.run(1, { jobId: '123' })).rejects.toThrow(/`jobId`/);
  });
});

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as OtelApi from '@opentelemetry/api';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { step } from '../index.js';

type Api = typeof OtelApi;

/** Registers an in-memory SDK through `api` (this copy of @opentelemetry/api, or another). */
function register(api: Api): { exporter: InMemorySpanExporter; off: () => Promise<void> } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    off: async () => {
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
    },
  };
}

const flow = step('traced-later', async (n: number) => n + 1).pipe(step('second', (n: number) => n * 2));

describe('an OpenTelemetry SDK registered after @weft/core is imported', () => {
  it('is picked up by runs that start after it registers, with nested spans', async () => {
    expect(await flow.run(1)).toBe(4); // before any SDK: no spans anywhere
    const sdk = register({ context, trace } as Api);
    try {
      await flow.run(1, { workflow: 'after-register' });
      const spans = sdk.exporter.getFinishedSpans();
      expect(spans.map((s) => s.name).sort()).toEqual(['after-register', 'second', 'traced-later']);
      expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    } finally {
      await sdk.off();
    }
  });

  it('is picked up again after trace.disable() and a new registration', async () => {
    const first = register({ context, trace } as Api);
    await flow.run(1, { workflow: 'first-sdk' });
    await first.off();
    const second = register({ context, trace } as Api);
    try {
      await flow.run(1, { workflow: 'second-sdk' });
      expect(second.exporter.getFinishedSpans().map((s) => s.name)).toContain('second-sdk');
      expect(first.exporter.getFinishedSpans().map((s) => s.name)).not.toContain('second-sdk');
    } finally {
      await second.off();
    }
  });

  describe('through another installed copy of @opentelemetry/api', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-otel-copy-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('gives spans: both copies share the global registration', async () => {
      // A second physical copy of the API package, as npm installs when an app pins another version.
      const require = createRequire(import.meta.url);
      const apiDir = dirname(dirname(dirname(require.resolve('@opentelemetry/api'))));
      const copyDir = join(dir, 'node_modules', '@opentelemetry', 'api');
      cpSync(apiDir, copyDir, { recursive: true });
      const copy = createRequire(join(dir, 'index.js'))('@opentelemetry/api') as Api;
      expect(copy.trace).not.toBe(trace); // really another module instance
      const sdk = register(copy);
      try {
        await flow.run(1, { workflow: 'other-copy' });
        expect(sdk.exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(['other-copy', 'second', 'traced-later']);
      } finally {
        await sdk.off();
      }
    });
  });
});

import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { quoteOrder } from './workflow.js';
import { renderSpanTree } from './span-tree.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);

const order = {
  id: 'order-1001',
  items: [
    { sku: 'tea', qty: 2, unitPrice: 3.5 },
    { sku: 'cup', qty: 1, unitPrice: 8 },
  ],
};

const result = await quoteOrder.run(order, { workflow: 'quote-order', timeout: 2_000 });
await provider.forceFlush();

console.log('Result:');
console.log(JSON.stringify(result, null, 2));
console.log(`\nCorrelation ID: ${result.correlationId}`);
console.log('\nSpan tree:');
console.log(renderSpanTree(exporter.getFinishedSpans()));
await provider.shutdown();

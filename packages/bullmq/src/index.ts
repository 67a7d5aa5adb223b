export { Durable, durable } from './durable.js';
export type { DurableOptions, DurableRunOptions, DurableWorkerOptions, DurableWorker, DurableJobData, DurableJobResult, DurableJobEvent, DurableCounts, DeadLetter } from './durable.js';

export { WeftCollector, createWeftMetrics, DEFAULTS, RECORDED_EVENT_TYPES } from './collector.js';
export type { WeftMetricsOptions, WeftEventSource, AnyRegistry, DeclaredWorkflow } from './collector.js';
export { METRICS, METRIC_LABELS, METRIC_DEFINITIONS, LABELS, DEFAULT_BUCKETS, HTTP_BUCKETS, COUNT_BUCKETS, OVERFLOW_LABEL_VALUE, NO_MODEL_LABEL_VALUE } from './metric-names.js';
export type { MetricDefinition, MetricKey, MetricType, LabelName } from './metric-names.js';
export { errorKind, ERROR_KINDS } from './error-kind.js';
export type { ErrorKind } from './error-kind.js';
export { watchQueues, QUEUE_STATES, QUEUE_METRICS } from './queue-metrics.js';
export type { WatchedQueue, WatchQueuesOptions, QueueState } from './queue-metrics.js';

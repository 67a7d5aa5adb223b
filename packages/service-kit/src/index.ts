/**
 * Shared plumbing for Weft's sample services (private to this repository): request plumbing and
 * error handlers for Fastify, graceful shutdown, a metrics registry, OTLP tracing, environment
 * configuration, and the process entry point that ties them together. Test helpers are in
 * `@weft/service-kit/testing`.
 */
export { ConfigError } from './config-error.js';
export { envHttpUrl, envInt, envReader, envTable, loadServiceConfig, LOG_LEVELS, readEnv, serviceEnvSchemas, SHARED_ENV_DOCS } from './env.js';
export type { EnvReader, LogLevel, ServiceConfig, ServiceConfigDefaults } from './env.js';
export { frameworkErrors, installErrorHandlers } from './error-handlers.js';
export type { ErrorHandlerOptions } from './error-handlers.js';
export { listenUrl } from './listen-url.js';
export { createMetrics } from './metrics.js';
export type { Metrics } from './metrics.js';
export { clientGone, correlationIdOf, httpLimits, inRequestContext, installPlumbing, isPublicRoute, matchedRoute, PUBLIC, sendError } from './plumbing.js';
export { installReadiness, redisReadiness } from './readiness.js';
export type { PingableRedis, ReadinessCheck, ReadinessOptions } from './readiness.js';
export { runService } from './run-service.js';
export type { ServiceMain } from './run-service.js';
export { gracefulShutdown } from './shutdown.js';
export type { ShutdownOptions } from './shutdown.js';
export { startTracing } from './telemetry.js';

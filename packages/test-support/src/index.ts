/**
 * Test helpers shared by Weft's packages and apps (private, a devDependency only): an in-memory
 * OpenTelemetry SDK, and a redis-server child process for tests that kill Redis.
 */
export { describeWith, gate, hasBinary, type Gate } from './gate.js';
export { freePort, hasRedisServer, RedisServer, redisServerGate, REDIS_SERVER } from './redis-server.js';
export { installTracing, parentId } from './tracing.js';
export type { InstalledTracing } from './tracing.js';

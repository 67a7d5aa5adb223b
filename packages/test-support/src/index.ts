/**
 * Test helpers shared by Weft's packages and apps (private, a devDependency only): a redis-server
 * child process for tests that kill Redis, a real Redis Cluster of redis-server children for tests
 * that must run against a cluster, and the gate for tests that need a server or a binary.
 * The in-memory OpenTelemetry SDK is public now: `recordSpans` from @weft/testing.
 */
export { describeWith, gate, hasBinary, type Gate } from './gate.js';
export { freePort, hasRedisServer, RedisServer, redisServerGate, REDIS_SERVER } from './redis-server.js';
export { hasRedisCluster, RedisCluster, redisClusterGate, REDIS_CLUSTER } from './redis-cluster.js';

// Saga throughput and latency with the in-memory log, the Redis log and BullMQ, in one run.
// A three-step saga whose steps do no I/O of their own, so what is measured is the saga's own
// cost: log writes (an intent and a result per step, a start and an end), leases, and for BullMQ
// the queue round trip. Redis is a dedicated redis-server on loopback (no persistence), the worker
// runs in this process. Usage: npm run bench:saga [-- --n 2000 --concurrency 32]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { MemorySagaLog, saga } from '@weft/core';
import { durable } from '@weft/bullmq';
import { createWeftRedis, RedisSagaLog } from '@weft/redis';
import { hasRedisServer, RedisServer } from '@weft/test-support';

const { values } = parseArgs({ options: { n: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '32' } } });
const N = Number(values.n);
const C = Number(values.concurrency);
if (!hasRedisServer()) {
  console.error('bench:saga: redis-server is not on the PATH (apt-get install redis-server)');
  process.exit(3);
}

const build = (log, name) =>
  saga(
    [
      { name: 'reserve', step: async (o) => ({ ...o, r: 1 }), compensate: () => {} },
      { name: 'charge', step: async (o) => ({ ...o, c: 2 }), compensate: () => {} },
      { name: 'ship', step: async (o) => ({ ...o, s: 3 }), compensate: () => {} },
    ],
    { name, log, id: (o) => o.id },
  );

/** Runs `n` executions, `c` at a time; returns throughput and latency percentiles. */
async function measure(label, n, run) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await run(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { label, n, perSecond: n / seconds, p50: q(0.5), p99: q(0.99) };
}

const redis = await RedisServer.launch();
const rows = [];
try {
  const memory = build(new MemorySagaLog({ retainFinished: 1_000 }), 'bench_memory');
  await measure('warm-up', 500, (i) => memory.run({ id: `w${i}` }));
  rows.push(await measure('in-memory log', N, (i) => memory.run({ id: `m${i}` })));

  const client = createWeftRedis({ url: redis.url, prefix: 'bench' });
  await client.ready(5_000);
  const redisSaga = build(new RedisSagaLog(client, { retainFinishedMs: 60_000 }), 'bench_redis');
  await measure('warm-up', 200, (i) => redisSaga.run({ id: `w${i}` }));
  rows.push(await measure('Redis log', N, (i) => redisSaga.run({ id: `r${i}` })));

  const queued = durable(build(new RedisSagaLog(client, { retainFinishedMs: 60_000 }), 'bench_bullmq'), { connection: redis.url, prefix: '{bench}' });
  const worker = queued.worker({ concurrency: C });
  await measure('warm-up', 100, (i) => queued.run({ id: `w${i}` }, { jobId: `w${i}`, timeoutMs: 30_000 }));
  rows.push(await measure('BullMQ + Redis log', N, (i) => queued.run({ id: `b${i}` }, { jobId: `b${i}`, timeoutMs: 30_000 })));
  await worker.close();
  await queued.close();
  await client.close();
} finally {
  await redis.kill();
}

console.log(`\nsaga of three no-op steps, ${C} at a time, Node ${process.version}\n`);
console.log('| log | sagas | sagas/s | p50 ms | p99 ms |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.label} | ${r.n} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`);

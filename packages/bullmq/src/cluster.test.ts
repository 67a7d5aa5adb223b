import { randomUUID } from 'node:crypto';
import { saga } from '@weft/core';
import { createWeftRedis, RedisSagaLog, type WeftRedis } from '@weft/redis';
import { describeWith, hasRedisCluster, REDIS_CLUSTER, RedisCluster } from '@weft/test-support';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { durable, type Durable } from './durable.js';

// The BullMQ path on a real 3-master Redis Cluster: BullMQ's multi-key scripts need every key of a
// queue in one slot, which the `{...}` prefix (a hash tag) gives; the saga log's scripts use their
// own tag per saga name. A durable saga runs through both.
describeWith(REDIS_CLUSTER, '@weft/bullmq and the saga log on a 3-master Redis Cluster', hasRedisCluster(), () => {
  let cluster: RedisCluster;
  let weft: WeftRedis;
  const open: Array<Durable<never, unknown>> = [];
  const prefix = `{weft-bull-${randomUUID().slice(0, 6)}}`;
  const connection = (): Cluster =>
    new Cluster(
      cluster.urls.map((u) => ({ host: new URL(u).hostname, port: Number(new URL(u).port) })),
      { redisOptions: { maxRetriesPerRequest: null } },
    );

  beforeAll(async () => {
    cluster = await RedisCluster.launch();
    weft = createWeftRedis({ clusterUrls: cluster.urls, prefix: `weft-saga-${randomUUID().slice(0, 6)}`, commandTimeoutMs: 3_000 });
    await weft.ready(10_000);
  });
  afterAll(async () => {
    await Promise.all(open.map((d) => d.close({ timeoutMs: 2_000 })));
    await weft?.close();
    await cluster?.stop();
  });

  it('runs a saga as a durable job with run-and-wait, replays its job ID, and keeps every queue key in one slot', async () => {
    const log = new RedisSagaLog(weft);
    let charges = 0;
    const checkout = saga(
      [
        { name: 'reserve', step: (o: { id: string }) => ({ ...o, reserved: true }), compensate: () => {} },
        { name: 'charge', step: (o: { id: string; reserved: boolean }) => ({ ...o, charge: ++charges }), compensate: () => {} },
      ],
      { name: 'checkout', log, id: (o) => o.id },
    );
    const d = durable(checkout, { connection: connection(), prefix });
    open.push(d as unknown as Durable<never, unknown>);
    d.worker({ concurrency: 4 });
    const results = await Promise.all([d.run({ id: 'c-1' }, { jobId: 'c-1', timeoutMs: 20_000 }), d.run({ id: 'c-1' }, { jobId: 'c-1', timeoutMs: 20_000 })]);
    expect(results).toEqual([{ id: 'c-1', reserved: true, charge: 1 }, { id: 'c-1', reserved: true, charge: 1 }]);
    expect(await d.run({ id: 'c-1' }, { jobId: 'c-1', timeoutMs: 20_000 })).toEqual({ id: 'c-1', reserved: true, charge: 1 });
    expect(charges).toBe(1);
    expect((await log.get('checkout', 'c-1'))?.entries.at(-1)).toMatchObject({ type: 'finished', outcome: 'completed' });

    // Every key BullMQ wrote for the queue sits in the one slot of its hash tag.
    const slots = new Set<number>();
    for (const url of cluster.urls) {
      const node = createWeftRedis({ url, prefix: 'node' });
      await node.ready(5_000);
      const keys = await node.command<string[]>(['KEYS', `${prefix}*`]);
      for (const k of keys) slots.add(await node.command<number>(['CLUSTER', 'KEYSLOT', k]));
      await node.close();
    }
    expect(slots.size).toBe(1);
  }, 60_000);
});

import { randomUUID } from 'node:crypto';
import { CircuitBreaker, type CircuitBreakerSnapshot } from '@weft/core';
import { fail, knownOptions, number, optionsObject } from '@weft/core/options';
import { noop } from '../internal/timers.js';
import { defineScript, type WeftRedis } from '../weft-redis.js';

/**
 * Options for {@link shareCircuitBreaker}.
 *
 * @example
 * ```ts
 * const options: ShareCircuitBreakerOptions = { snapshotTtlMs: 3_600_000 };
 * ```
 */
export interface ShareCircuitBreakerOptions {
  /**
   * How long the last shared state is kept for processes that start later.
   * @default 86_400_000 (a day)
   */
  readonly snapshotTtlMs?: number;
}

const DEFAULTS = { snapshotTtlMs: 86_400_000 } as const satisfies Required<ShareCircuitBreakerOptions>;

/**
 * The handle of a shared breaker, from {@link shareCircuitBreaker}.
 *
 * @example
 * ```ts
 * const shared = shareCircuitBreaker(payments, redis);
 * await shared.synced;
 * shared.stop();
 * ```
 */
export interface SharedCircuitBreaker {
  /** Resolves once the stored state (if any) was read and applied; never rejects. */
  readonly synced: Promise<void>;
  /** Stops publishing and applying changes; the breaker goes on locally. Idempotent. */
  stop(): void;
}

interface Message {
  /** The publishing process. */
  readonly origin: string;
  /** When the change happened (epoch ms), to drop out-of-order updates. */
  readonly at: number;
  readonly snapshot: CircuitBreakerSnapshot;
}

/** Stores the snapshot unless a newer one is there, and announces it. */
const PUBLISH = defineScript(`
local current = redis.call('GET', KEYS[1])
if current then
  local at = tonumber(string.match(current, '"at":(%d+)'))
  if at and at > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
`);

/**
 * Shares a breaker's state between every process that shares it under the same name: when one
 * process opens (or closes, isolates, resets) its breaker, the others apply the same state, so a
 * dead dependency is shed fleet-wide. Changes are published on pub/sub and stored in a key, which
 * processes read when they start and whenever their connection comes back, so late joiners and
 * processes that missed a message catch up.
 *
 * Only state transitions are shared (not every call's outcome): each process still counts its own
 * failures, and the first to trip opens the breaker for all. Out-of-order updates are dropped by
 * time, so keep clocks NTP-synced. When Redis is down the breaker works locally, as if unshared.
 *
 * @example
 * ```ts
 * const payments = new CircuitBreaker({ name: 'payments', threshold: 5, openMs: 10_000 });
 * const shared = shareCircuitBreaker(payments, redis);
 * const charge = chargeCard.circuitBreaker(payments);
 * // on shutdown: shared.stop(); await redis.close();
 * ```
 */
export function shareCircuitBreaker(breaker: CircuitBreaker, redis: WeftRedis, options?: ShareCircuitBreakerOptions): SharedCircuitBreaker {
  if (!(breaker instanceof CircuitBreaker)) fail('breaker', 'a CircuitBreaker', breaker);
  const o = optionsObject('options', options);
  knownOptions('shareCircuitBreaker', o, ['snapshotTtlMs']);
  const ttl = number('snapshotTtlMs', o.snapshotTtlMs, DEFAULTS.snapshotTtlMs, { min: 1_000, integer: true });
  const origin = randomUUID();
  const key = redis.key('breaker', `{breaker:${breaker.name}}`);
  const channel = redis.key('breaker', `{breaker:${breaker.name}}`, 'changes');
  /** Time of the newest change applied or published here. */
  let latest = 0;
  /** Set while restoring a remote state, so the change it causes is not published back. */
  let applying = false;
  let stopped = false;

  const apply = (raw: string | null): void => {
    if (stopped || raw === null) return;
    let m: Message;
    try {
      m = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (m.origin === origin || typeof m.at !== 'number' || m.at < latest) return;
    latest = m.at;
    applying = true;
    try {
      breaker.restore(m.snapshot);
    } catch {
      // a malformed or foreign snapshot is ignored
    } finally {
      applying = false;
    }
  };

  const offChange = breaker.onStateChange(() => {
    if (applying || stopped) return;
    const at = Math.max(Date.now(), latest + 1);
    latest = at;
    const message = JSON.stringify({ at, origin, snapshot: breaker.toJSON() } satisfies Message);
    redis.script(PUBLISH, [key], [message, at, ttl, channel]).catch(noop);
  });
  let offMessages: () => void = noop;
  try {
    offMessages = redis.subscribe(channel, apply);
  } catch {
    // closed client: nothing to share
  }
  const sync = (): Promise<void> => redis.command<string | null>(['GET', key]).then(apply, noop);
  const offReady = redis.onReady(() => void sync());
  const synced = sync();

  return {
    synced,
    stop() {
      if (stopped) return;
      stopped = true;
      offChange();
      offMessages();
      offReady();
    },
  };
}

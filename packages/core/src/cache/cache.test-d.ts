import { describe, expectTypeOf, it } from 'vitest';
import { step } from '../step/step.js';
import type { Primitive } from '../primitive.js';
import type { RunContext } from '../context/run-context.js';
import { Cache, cache } from './cache.js';
import type { CacheStore } from './cache-store.js';
import { type LruStore } from './lru-store.js';

interface User { id: string; name: string }
const fetchUser = step('fetch-user', (id: string): User => ({ id, name: 'Ada' }));

describe('cache types', () => {
  it('keeps the input and output types', () => {
    expectTypeOf(cache(fetchUser, { ttlMs: 1_000 })).toEqualTypeOf<Primitive<string, User>>();
    expectTypeOf(cache(fetchUser)).toEqualTypeOf<Primitive<string, User>>();
  });

  it('types the key function and sizeCalculation from the primitive', () => {
    cache(fetchUser, {
      key: (id, ctx) => {
        expectTypeOf(id).toEqualTypeOf<string>();
        expectTypeOf(ctx).toEqualTypeOf<RunContext>();
        return id;
      },
      maxSize: 100,
      sizeCalculation: (user) => {
        expectTypeOf(user).toEqualTypeOf<User>();
        return user.name.length;
      },
    });
    // @ts-expect-error the key must be a string
    cache(fetchUser, { key: (id: string) => id.length });
  });

  it('accepts a handle of matching types only', () => {
    expectTypeOf(cache(fetchUser, new Cache<string, User>({ namespace: 'users' }))).toEqualTypeOf<Primitive<string, User>>();
    // @ts-expect-error the handle caches numbers by number
    cache(fetchUser, new Cache<number, number>({ namespace: 'users' }));
  });

  it('accepts any object with get/set/delete as a store, such as a Keyv instance', () => {
    // The shape of Keyv 5's methods, without depending on keyv.
    interface KeyvLike {
      get<Value = unknown>(key: string, options?: { raw?: false }): Promise<Value | undefined>;
      set<Value = unknown>(key: string, value: Value, ttl?: number): Promise<boolean>;
      delete(key: string | string[]): Promise<boolean>;
      clear(): Promise<void>;
    }
    expectTypeOf<KeyvLike>().toExtend<CacheStore>();
    expectTypeOf<LruStore>().toExtend<CacheStore>();
  });
});

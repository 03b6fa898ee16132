import { LRUCache } from 'lru-cache'

// An LRU cache of at most `entries` items that grows as it fills. lru-cache's `max` allocates the
// storage of all of them up front (its documented fastest mode): the relay's five 10,000-entry
// caches cost ~5 ms and ~2 MB of every start-up for caches that mostly stay small. `maxSize` with
// one unit per entry keeps the same bound without.
export function boundedCache<K extends {}, V extends {}> (entries: number, ttlMs?: number): LRUCache<K, V> {
  return new LRUCache<K, V>({ maxSize: entries, sizeCalculation: () => 1, ...(ttlMs !== undefined ? { ttl: ttlMs } : {}) })
}

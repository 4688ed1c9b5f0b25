package dev.scoreline.redis;

/**
 * The {@code KvStore} contract with reads through Lettuce, the path of URIs that {@link
 * BlockingReads} does not take (Unix sockets, sentinels).
 */
class RedisKvStoreLettuceReadsTest extends RedisKvStoreTest {
  @Override
  RedisKvStore open(String uri) {
    return RedisKvStore.connect(uri, false);
  }
}

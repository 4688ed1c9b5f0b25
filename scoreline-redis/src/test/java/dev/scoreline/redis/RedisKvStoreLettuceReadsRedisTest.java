package dev.scoreline.redis;

/**
 * {@link RedisKvStoreRedisTest} with reads through Lettuce, the path of URIs that {@link
 * BlockingReads} does not take (Unix sockets, sentinels).
 */
class RedisKvStoreLettuceReadsRedisTest extends RedisKvStoreRedisTest {
  @Override
  RedisKvStore open(String uri) {
    return RedisKvStore.connect(uri, false);
  }
}

package dev.scoreline.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import org.junit.jupiter.api.Test;

/** Which URIs read over {@link BlockingReads}, and which through Lettuce. */
class BlockingReadsTest {
  @Test
  void oneServerOverTcp_orTlsWithFullChecks_readsBlocking() {
    assertThat(BlockingReads.supports(RedisURI.create("redis://127.0.0.1:6379/2"))).isTrue();
    assertThat(BlockingReads.supports(RedisURI.create("redis://:secret@cache.internal:6380")))
        .isTrue();
    assertThat(BlockingReads.supports(RedisURI.create("rediss://cache.internal:6380"))).isTrue();
  }

  @Test
  void socketsSentinelsAndRelaxedTls_readThroughLettuce() {
    assertThat(BlockingReads.supports(RedisURI.create("redis-socket:///run/redis.sock"))).isFalse();
    assertThat(
            BlockingReads.supports(
                RedisURI.create("redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/0#main")))
        .isFalse();
    assertThat(BlockingReads.supports(RedisURI.create("rediss://cache.internal?verifyPeer=NONE")))
        .isFalse();
    assertThat(BlockingReads.supports(RedisURI.create("rediss://cache.internal?verifyPeer=CA")))
        .isFalse();
  }
}

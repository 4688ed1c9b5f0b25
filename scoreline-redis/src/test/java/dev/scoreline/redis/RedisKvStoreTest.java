package dev.scoreline.redis;

import dev.scoreline.core.kv.KvStore;
import dev.scoreline.testing.KvStoreContract;
import dev.scoreline.testing.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/** The {@link KvStore} contract against a real redis-server; every test starts on an empty DB. */
@ExtendWith(RedisServerExtension.class)
class RedisKvStoreTest extends KvStoreContract {
  private static final int DB = 0;
  private static RedisServerProcess redis;

  private RedisKvStore opened;

  @BeforeAll
  static void startRedis(RedisServerProcess server) {
    redis = server;
  }

  /** Opens the store under test; a subclass reads through Lettuce instead. */
  RedisKvStore open(String uri) {
    return RedisKvStore.connect(uri);
  }

  @Override
  protected KvStore newStore() {
    redis.flush(DB);
    opened = open(redis.uri(DB));
    return opened;
  }

  @AfterEach
  void closeStore() {
    if (opened != null) {
      opened.close();
      opened = null;
    }
    redis.flush(DB);
  }
}

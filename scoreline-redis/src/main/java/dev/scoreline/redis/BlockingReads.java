package dev.scoreline.redis;

import static java.util.Objects.requireNonNull;

import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import javax.net.ssl.SSLParameters;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The read path of {@link RedisKvStore}: each call writes all its commands on one pooled blocking
 * connection (Jedis) in one flush and reads every reply on the calling thread.
 *
 * <p>Lettuce, which the store uses for everything else, hands each command of a pipeline to its
 * netty event loop as a task of its own and completes the reply on that thread: for the 200 {@code
 * HGETALL}s of a candidate read that is 200 cross-thread writes and three runnable threads per call
 * (the caller, the event loop, {@code redis-server}). Here there are two, and no task per command:
 * about 1.5× less time per 200-record read in {@code RedisReadBreakdown}, at the median and at the
 * p99 (docs/decisions/004-redis-blocking-reads.md).
 *
 * <p>Reads are idempotent, so a call whose pooled connection turns out to be broken (the server
 * restarted, or closed idle clients) is sent once more on a fresh connection before it fails; a
 * call that gets no reply within the timeout fails at once. Only plain TCP (and TLS) URIs to a
 * single server take this path ({@link #supports}); the others read through Lettuce.
 */
final class BlockingReads implements AutoCloseable {
  /** Connections kept open at most: one per concurrent reader; more readers wait for one. */
  static final int POOL_SIZE = 16;

  private final ConnectionPool pool;
  private final String server;
  private final Duration timeout;

  /**
   * Whether {@code uri} names one server over TCP, or over TLS with full verification of its
   * certificate and host name: not a Unix socket, a sentinel group or TLS with relaxed checks.
   */
  static boolean supports(RedisURI uri) {
    return uri.getSocket() == null
        && uri.getSentinels().isEmpty()
        && uri.getHost() != null
        && (!uri.isSsl() || uri.getVerifyMode() == SslVerifyMode.FULL);
  }

  @SuppressWarnings("deprecation") // RedisURI.getPassword(): the credentials provider is async
  BlockingReads(RedisURI uri, String server) {
    requireNonNull(uri, "uri is null");
    this.server = requireNonNull(server, "server is null");
    this.timeout = uri.getTimeout();
    int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
    DefaultJedisClientConfig.Builder config =
        DefaultJedisClientConfig.builder()
            .protocol(RedisProtocol.RESP2)
            .database(uri.getDatabase())
            .ssl(uri.isSsl())
            .connectionTimeoutMillis(millis)
            .socketTimeoutMillis(millis)
            .clientSetInfoConfig(ClientSetInfoConfig.DISABLED);
    if (uri.isSsl()) {
      SSLParameters tls = new SSLParameters();
      tls.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
      config.sslParameters(tls);
    }
    if (uri.getUsername() != null) {
      config.user(uri.getUsername());
    }
    if (uri.getPassword() != null) {
      config.password(new String(uri.getPassword()));
    }
    GenericObjectPoolConfig<Connection> poolConfig = new GenericObjectPoolConfig<>();
    poolConfig.setMaxTotal(POOL_SIZE);
    poolConfig.setMaxIdle(POOL_SIZE);
    poolConfig.setMinIdle(0);
    poolConfig.setBlockWhenExhausted(true);
    poolConfig.setMaxWait(timeout);
    poolConfig.setJmxEnabled(false);
    this.pool =
        new ConnectionPool(
            new HostAndPort(uri.getHost(), uri.getPort()), config.build(), poolConfig);
  }

  /**
   * Writes commands with {@code send} and returns their {@code replies} replies in order: each a
   * reply object of Jedis (a {@code byte[]}, a {@code List}, a {@code Long}, {@code null}) or the
   * {@link redis.clients.jedis.exceptions.JedisDataException} of a command Redis refused.
   *
   * @throws ScorelineException {@code UNAVAILABLE} when Redis cannot be reached or does not answer
   *     within the timeout
   */
  List<Object> roundTrip(String op, int replies, Consumer<Connection> send) {
    for (int attempt = 1; ; attempt++) {
      Connection connection = borrow(op);
      try {
        send.accept(connection);
        return connection.getMany(replies);
      } catch (JedisConnectionException e) {
        connection.setBroken(); // unread replies may be left on it
        if (attempt == 2 || timedOut(e)) {
          throw unavailable(op, e);
        }
        pool.clear(); // the other idle connections most likely broke with it
      } finally {
        connection.close(); // back to the pool, or destroyed when broken
      }
    }
  }

  private Connection borrow(String op) {
    try {
      return pool.getResource();
    } catch (JedisException e) {
      throw unavailable(op, e);
    }
  }

  private static boolean timedOut(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException) {
        return true;
      }
    }
    return false;
  }

  private ScorelineException unavailable(String op, JedisException e) {
    String at = op + " on Redis at " + server;
    if (timedOut(e)) {
      return new ScorelineException(
          ErrorCode.UNAVAILABLE,
          at + " got no reply within " + timeout + "; is Redis overloaded or down?",
          e);
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root instanceof NoSuchElementException) {
      return new ScorelineException(
          ErrorCode.UNAVAILABLE,
          at
              + " waited "
              + timeout
              + " for one of its "
              + POOL_SIZE
              + " connections; lower the number of concurrent readers or raise the URI's timeout",
          e);
    }
    return new ScorelineException(
        ErrorCode.UNAVAILABLE, at + " failed: " + root.getMessage() + "; is Redis reachable?", e);
  }

  @Override
  public void close() {
    pool.close();
  }
}

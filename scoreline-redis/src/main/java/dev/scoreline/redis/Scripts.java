package dev.scoreline.redis;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The Lua scripts of {@link RedisKvStore}. Each touches one key, so each is atomic on a single
 * server and would stay valid on Redis Cluster. The store runs them with {@code EVALSHA} and falls
 * back to {@code EVAL} when the server answers {@code NOSCRIPT} (a restarted or failed-over server,
 * {@code SCRIPT FLUSH}).
 */
final class Scripts {
  private Scripts() {}

  /**
   * Last-write-wins merge of one record. KEYS[1]: the record (a hash); ARGV: field, value, field,
   * value, ... in write order. A value starts with a 16-byte stamp and replaces the stored value
   * iff its stamp is greater than or equal to the stored one, compared byte by byte as unsigned
   * numbers. Lua's {@code <} on strings is not used: Lua 5.1 compares strings with {@code strcoll},
   * and redis-server calls {@code setlocale(LC_COLLATE, "")}, so under a non-C locale the order
   * would not be byte order. A stored value shorter than a stamp (not written by Scoreline) is
   * older than any stamp. Writes of the same field in one call compare with each other in order.
   * Returns how many writes were applied.
   */
  static final Script MERGE_FIELDS =
      new Script(
          "merge-fields",
          """
          local key = KEYS[1]
          local applied = 0
          for i = 1, #ARGV, 2 do
            local field, new = ARGV[i], ARGV[i + 1]
            local cur = redis.call('HGET', key, field)
            local apply = true
            if cur then
              for j = 1, 16 do
                local a, b = string.byte(cur, j), string.byte(new, j)
                if a ~= b then
                  apply = (a or -1) < (b or -1)
                  break
                end
              end
            end
            if apply then
              redis.call('HSET', key, field, new)
              applied = applied + 1
            end
          end
          return applied
          """);

  /**
   * Publishes a snapshot. KEYS[1]: the list of published ids of one name, newest first (the head is
   * current); ARGV[1]: the id; ARGV[2]: how many to keep (at least 1). Moves the id to the head
   * (publishing the current id again changes nothing), trims the list to {@code keep} and returns
   * the ids trimmed off, whose data the client deletes afterwards.
   */
  static final Script PUBLISH =
      new Script(
          "publish",
          """
          local keep = tonumber(ARGV[2])
          redis.call('LREM', KEYS[1], 0, ARGV[1])
          redis.call('LPUSH', KEYS[1], ARGV[1])
          local dropped = redis.call('LRANGE', KEYS[1], keep, -1)
          redis.call('LTRIM', KEYS[1], 0, keep - 1)
          return dropped
          """);

  /**
   * Rolls back. KEYS[1]: the list of published ids. With at least two ids, pops the current one and
   * returns {rolled back id, id now current}; otherwise changes nothing and returns an empty array.
   */
  static final Script ROLLBACK =
      new Script(
          "rollback",
          """
          if redis.call('LLEN', KEYS[1]) < 2 then
            return {}
          end
          local gone = redis.call('LPOP', KEYS[1])
          return {gone, redis.call('LINDEX', KEYS[1], 0)}
          """);

  /**
   * Unlists a snapshot before its data is dropped. KEYS[1]: the list of published ids; ARGV[1]: the
   * id. Returns -1 and changes nothing when the id is current; otherwise removes it from the list
   * and returns how many entries were removed (0 for a never-published snapshot).
   */
  static final Script UNLIST =
      new Script(
          "unlist",
          """
          if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
            return -1
          end
          return redis.call('LREM', KEYS[1], 0, ARGV[1])
          """);

  static final Script[] ALL = {MERGE_FIELDS, PUBLISH, ROLLBACK, UNLIST};

  /** A script's name (for messages), source and SHA-1 digest. */
  record Script(String name, byte[] source, String sha) {
    Script(String name, String source) {
      this(name, source.getBytes(UTF_8), Sha1.hex(source.getBytes(UTF_8)));
    }
  }
}

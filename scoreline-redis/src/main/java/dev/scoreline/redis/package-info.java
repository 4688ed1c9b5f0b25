/**
 * The Redis {@link dev.scoreline.core.kv.KvStore}: {@link dev.scoreline.redis.RedisKvStore}.
 *
 * <h2>Key layout, format version 1</h2>
 *
 * <p>Every key starts with {@code sl1:} (Scoreline, layout version 1); a later incompatible layout
 * gets a new version prefix, so old and new keys can live side by side during a migration. All
 * strings are UTF-8.
 *
 * <table>
 *   <caption>Redis keys written by Scoreline</caption>
 *   <tr><th>key bytes</th><th>Redis type</th><th>holds</th></tr>
 *   <tr><td>{@code "sl1:d:" namespace 0x00 key}</td><td>string</td>
 *       <td>a plain value ({@code putAll}, {@code multiGet})</td></tr>
 *   <tr><td>{@code "sl1:d:" namespace 0x00 key}</td><td>hash</td>
 *       <td>a record: one field per feature view, field name = view name (UTF-8, not hashed),
 *       field value = 16-byte stamp ({@link dev.scoreline.core.kv.Stamps}) + payload</td></tr>
 *   <tr><td>{@code "sl1:s:" name}</td><td>list</td>
 *       <td>the published snapshot ids of {@code name}, newest first; the head is current</td></tr>
 * </table>
 *
 * <p>A namespace is non-empty, contains no U+0000 and no unpaired surrogate, so the first zero byte
 * after {@code sl1:d:} ends it: a namespace may contain {@code ':'} (or any other character)
 * without two (namespace, key) pairs ever sharing a Redis key, and {@code "sl1:d:" namespace 0x00}
 * is a prefix of exactly that namespace's keys (what {@code dropNamespace} deletes). Keys are raw
 * bytes, zero bytes included. A plain value and a record share one key space per namespace (a
 * record is one key): {@code deleteAll} deletes either.
 *
 * <p>A snapshot's data lives in the namespace {@code name + "@" + id}; ids may not contain {@code
 * '@'}, so that namespace splits into (name, id) only one way.
 *
 * <h2>Atomicity</h2>
 *
 * <p>Record merges, publish, rollback and the unlisting part of dropSnapshot are Lua scripts on a
 * single key each (see {@code Scripts}), so they are atomic and need no WATCH/MULTI. Deleting the
 * data of a dropped snapshot or namespace is not atomic: it runs after the pointer moved away from
 * it, with {@code SCAN MATCH} and {@code UNLINK}.
 */
package dev.scoreline.redis;

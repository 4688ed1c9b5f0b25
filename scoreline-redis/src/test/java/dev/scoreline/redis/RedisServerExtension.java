package dev.scoreline.redis;

import dev.scoreline.testing.RedisServerProcess;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a {@link RedisServerProcess} parameter: one redis-server for the whole test run,
 * started on first use and stopped when the run ends (it is kept in the root context's store, which
 * closes it), or when the JVM exits.
 */
final class RedisServerExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(RedisServerExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == RedisServerProcess.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            RedisServerProcess.class, k -> RedisServerProcess.start(), RedisServerProcess.class);
  }
}

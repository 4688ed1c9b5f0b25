package dev.scoreline.server.grpc;

import dev.scoreline.core.model.ModelManager;
import dev.scoreline.server.ScorelineServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * A {@link ScorelineServer} on an ephemeral port with the gRPC inference and health services, as
 * users run it: REST and gRPC on one port, HTTP/2 cleartext.
 */
final class TestServer implements AutoCloseable {
  private final ScorelineServer server;

  private TestServer(ScorelineServer server) {
    this.server = server;
  }

  /** {@code registry} must be the one the manager's metrics record to. */
  static TestServer start(ModelManager manager, PrometheusMeterRegistry registry) {
    ScorelineServer server =
        ScorelineServer.builder(manager)
            .port(0)
            .meterRegistry(registry)
            .shutdownGracePeriod(Duration.ofSeconds(5))
            .grpcService(new GrpcInferenceService(manager))
            .grpcService(new GrpcHealthService(manager))
            .build()
            .start();
    return new TestServer(server);
  }

  int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.close();
  }
}

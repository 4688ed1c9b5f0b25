package dev.scoreline.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scoreline.onnx.OnnxRuntime;
import dev.scoreline.server.ServerFixture.Response;
import dev.scoreline.server.grpc.GrpcInferenceService;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.ServerLiveRequest;
import dev.scoreline.server.grpc.proto.ServerMetadataRequest;
import dev.scoreline.server.grpc.proto.ServerMetadataResponse;
import dev.scoreline.testing.TestModels;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** REST, gRPC and metrics share one port. */
class OnePortTest {
  @TempDir static Path repo;
  static ServerFixture s;

  @BeforeAll
  static void start() {
    TestModels.copyTo(repo, "string_identity");
    OnnxRuntime runtime = new OnnxRuntime();
    s = ServerFixture.start(repo, runtime, b -> {}, manager -> new GrpcInferenceService(manager));
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  @Test
  void restAndGrpc_onTheSamePort_reportTheSameServerInfo() throws Exception {
    Response rest = s.get("/v2");
    assertThat(rest.status()).isEqualTo(200);
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", s.server.port()).usePlaintext().build();
    try {
      GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub =
          GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
      ServerMetadataResponse meta = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
      assertThat(meta.getName()).isEqualTo(rest.json().get("name").asText());
      assertThat(meta.getVersion()).isEqualTo(rest.json().get("version").asText());
      assertThat(meta.getExtensionsList()).isEqualTo(ServerInfo.current().extensions());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    assertThat(s.get("/metrics").text()).contains("armeria_server_requests_total");
  }
}

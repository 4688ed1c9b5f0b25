package dev.scoreline.bench;

import com.google.protobuf.ByteString;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.ModelInferRequest;
import dev.scoreline.server.grpc.proto.ModelInferResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code grpc}: Open Inference Protocol {@code ModelInfer} with {@code raw_input_contents}, through
 * blocking stubs of grpc-java (Netty transport) over a few shared channels (HTTP/2 connections).
 */
final class GrpcCallers implements AutoCloseable {
  private static final long DEADLINE_MILLIS = 10_000;

  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub> stubs =
      new ArrayList<>();

  GrpcCallers(int port, int channelCount) {
    for (int i = 0; i < channelCount; i++) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              .maxInboundMessageSize(16 << 20)
              .build();
      channels.add(channel);
      stubs.add(GRPCInferenceServiceGrpc.newBlockingStub(channel));
    }
  }

  /** A caller for {@code batch} rows; concurrent threads are spread over the channels. */
  Caller caller(int batch) {
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName(BenchModel.NAME)
            .setModelVersion(BenchModel.VERSION)
            .addInputs(
                ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(BenchModel.INPUT)
                    .setDatatype("FP32")
                    .addShape(batch)
                    .addShape(BenchModel.FEATURES))
            .addRawInputContents(rawLittleEndian(BenchModel.features(batch)))
            .build();
    AtomicInteger next = new AtomicInteger();
    ThreadLocal<GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub> stub =
        ThreadLocal.withInitial(
            () -> stubs.get(Math.floorMod(next.getAndIncrement(), stubs.size())));
    int outBytes = batch * Float.BYTES;
    return () -> {
      ModelInferResponse r =
          stub.get().withDeadlineAfter(DEADLINE_MILLIS, TimeUnit.MILLISECONDS).modelInfer(request);
      if (r.getOutputsCount() != 1 || r.getRawOutputContentsCount() != 1) {
        throw new IllegalStateException("expected one raw output, got " + r.getOutputsCount());
      }
      ModelInferResponse.InferOutputTensor t = r.getOutputs(0);
      if (!BenchModel.OUTPUT.equals(t.getName()) || !"FP32".equals(t.getDatatype())) {
        throw new IllegalStateException("unexpected output " + t.getName() + " " + t.getDatatype());
      }
      long[] shape = new long[t.getShapeCount()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = t.getShape(i);
      }
      Caller.checkShape(shape, batch);
      ByteString data = r.getRawOutputContents(0);
      if (data.size() != outBytes) {
        throw new IllegalStateException("raw output has " + data.size() + " bytes");
      }
      ByteBuffer b = data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[batch];
      for (int i = 0; i < batch; i++) {
        out[i] = b.getFloat();
      }
      return out;
    };
  }

  /** {@code values} as raw tensor contents: FP32, little-endian, as the protocol sends them. */
  static ByteString rawLittleEndian(float[] values) {
    ByteBuffer raw =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    raw.flip();
    return ByteString.copyFrom(raw);
  }

  @Override
  public void close() {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      try {
        c.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}

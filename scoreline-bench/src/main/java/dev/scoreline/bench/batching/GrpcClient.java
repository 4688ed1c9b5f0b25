package dev.scoreline.bench.batching;

import com.google.protobuf.ByteString;
import dev.scoreline.bench.BenchModel;
import dev.scoreline.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.scoreline.server.grpc.proto.InferParameter;
import dev.scoreline.server.grpc.proto.ModelInferRequest;
import dev.scoreline.server.grpc.proto.ModelInferResponse;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code grpc}: Open Inference Protocol {@code ModelInfer} with {@code raw_input_contents} (binary
 * FP32), through grpc-java's asynchronous stub (Netty transport). Responses are handled on the
 * channel's event loop ({@code directExecutor}), so a call costs no client thread hand-off.
 */
final class GrpcClient implements AsyncClient {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<GRPCInferenceServiceGrpc.GRPCInferenceServiceStub> stubs = new ArrayList<>();
  private final ModelInferRequest[] requests = new ModelInferRequest[ROWS];
  private final ConcurrentHashMap<Long, ModelInferRequest[]> withTimeout =
      new ConcurrentHashMap<>();

  /** A DEADLINE_EXCEEDED this close to the client's deadline is the client's own. */
  private static final long CLIENT_DEADLINE_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private final long deadlineMillis;
  private final Expected expected;
  private final String output;

  /**
   * @param channels HTTP/2 connections; row {@code r} always uses channel {@code r % channels}
   * @param deadlineMillis the client's own deadline of every call
   */
  GrpcClient(
      int port, int channels, long deadlineMillis, Expected expected, BenchModel.Spec model) {
    this.deadlineMillis = deadlineMillis;
    this.expected = expected;
    this.output = model.output();
    for (int i = 0; i < channels; i++) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              .directExecutor()
              .maxInboundMessageSize(16 << 20)
              .build();
      this.channels.add(channel);
      stubs.add(GRPCInferenceServiceGrpc.newStub(channel));
    }
    int width = model.features();
    float[] x = model.features(ROWS);
    for (int r = 0; r < ROWS; r++) {
      ByteBuffer raw = ByteBuffer.allocate(width * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      for (int j = 0; j < width; j++) {
        raw.putFloat(x[r * width + j]);
      }
      raw.flip();
      requests[r] =
          ModelInferRequest.newBuilder()
              .setModelName(model.name())
              .setModelVersion(model.version())
              .addInputs(
                  ModelInferRequest.InferInputTensor.newBuilder()
                      .setName(model.input())
                      .setDatatype("FP32")
                      .addShape(1)
                      .addShape(width))
              .addRawInputContents(ByteString.copyFrom(raw))
              .build();
    }
  }

  @Override
  public String transport() {
    return "grpc";
  }

  @Override
  public void call(int row, long timeoutMicros, Callback callback) {
    call(
        row,
        timeoutMicros,
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMillis),
        callback);
  }

  /**
   * The gRPC deadline is {@code deadlineNanos}: grpc-java sends what is left of it as {@code
   * grpc-timeout}, so the server can drop a call whose client has already given up before reading
   * it.
   */
  @Override
  public void call(int row, long timeoutMicros, long deadlineNanos, Callback callback) {
    ModelInferRequest request = timeoutMicros > 0 ? timed(timeoutMicros)[row] : requests[row];
    long start = System.nanoTime();
    try {
      stubs
          .get(row % stubs.size())
          .withDeadline(Deadline.after(deadlineNanos - start, TimeUnit.NANOSECONDS))
          .modelInfer(request, new Observer(row, deadlineNanos, callback));
    } catch (RuntimeException e) {
      callback.done(Outcome.ERROR, System.nanoTime(), e.toString());
    }
  }

  private ModelInferRequest[] timed(long timeoutMicros) {
    return withTimeout.computeIfAbsent(
        timeoutMicros,
        t -> {
          ModelInferRequest[] out = new ModelInferRequest[ROWS];
          for (int r = 0; r < ROWS; r++) {
            out[r] =
                requests[r].toBuilder()
                    .putParameters("timeout", InferParameter.newBuilder().setInt64Param(t).build())
                    .build();
          }
          return out;
        });
  }

  /** The row's score, or throws when the answer is not one FP32 {@code score} of shape [1, 1]. */
  static float score(ModelInferResponse r, String output) {
    if (r.getOutputsCount() != 1 || r.getRawOutputContentsCount() != 1) {
      throw new IllegalStateException("expected one raw output, got " + r.getOutputsCount());
    }
    ModelInferResponse.InferOutputTensor t = r.getOutputs(0);
    if (!output.equals(t.getName())
        || !"FP32".equals(t.getDatatype())
        || t.getShapeCount() != 2
        || t.getShape(0) != 1
        || t.getShape(1) != 1) {
      throw new IllegalStateException(
          "unexpected output " + t.getName() + " " + t.getDatatype() + " " + t.getShapeList());
    }
    ByteString data = r.getRawOutputContents(0);
    if (data.size() != Float.BYTES) {
      throw new IllegalStateException("raw output has " + data.size() + " bytes, expected 4");
    }
    return data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat();
  }

  private final class Observer implements StreamObserver<ModelInferResponse> {
    private final int row;
    private final long deadline;
    private final Callback callback;
    private ModelInferResponse response;

    Observer(int row, long deadline, Callback callback) {
      this.row = row;
      this.deadline = deadline;
      this.callback = callback;
    }

    @Override
    public void onNext(ModelInferResponse value) {
      response = value;
    }

    @Override
    public void onError(Throwable t) {
      long end = System.nanoTime();
      Status s = Status.fromThrowable(t);
      Outcome o;
      switch (s.getCode()) {
        case RESOURCE_EXHAUSTED:
          o = Outcome.REJECTED;
          break;
        case DEADLINE_EXCEEDED:
          // the server's deadline (the timeout parameter) is far shorter than the client's: an
          // answer well before the client's own deadline came from the server
          o = deadline - end <= CLIENT_DEADLINE_SLACK_NANOS ? Outcome.TIMEOUT : Outcome.EXPIRED;
          break;
        default:
          o = Outcome.ERROR;
      }
      callback.done(o, end, s.getCode() + ": " + s.getDescription());
    }

    @Override
    public void onCompleted() {
      long end = System.nanoTime();
      String wrong;
      try {
        wrong =
            response == null ? "no response message" : expected.check(row, score(response, output));
      } catch (RuntimeException e) {
        wrong = e.getMessage();
      }
      callback.done(wrong == null ? Outcome.OK : Outcome.WRONG, end, wrong);
    }
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

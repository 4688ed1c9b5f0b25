package dev.scoreline.server.surfaces;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.surface.SurfaceEngine;
import dev.scoreline.core.surface.SurfaceRequest;
import dev.scoreline.core.surface.SurfaceResult;
import dev.scoreline.server.grpc.GrpcCalls;
import dev.scoreline.server.surfaces.proto.InputRow;
import dev.scoreline.server.surfaces.proto.Item;
import dev.scoreline.server.surfaces.proto.RecommendRequest;
import dev.scoreline.server.surfaces.proto.RecommendResponse;
import dev.scoreline.server.surfaces.proto.SurfaceServiceGrpc;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC surface service ({@code scoreline.surfaces.v1.SurfaceService}, {@code
 * src/main/proto/surfaces.proto}): {@code Recommend}, the twin of {@code POST /v1/surfaces/{name}}
 * with the same semantics and errors. The call's gRPC deadline, when shorter, becomes the
 * pipeline's deadline, so the fallback answers in time.
 */
public final class SurfaceGrpcService extends SurfaceServiceGrpc.SurfaceServiceImplBase {
  private final SurfaceEngine engine;

  public SurfaceGrpcService(SurfaceEngine engine) {
    this.engine = requireNonNull(engine, "engine is null");
  }

  /**
   * Served by Armeria, the request is checked on the event loop and the pipeline runs on the
   * surface engine's pool ({@link SurfaceEngine#recommendAsync}), the deadline kept by an
   * event-loop timer: no blocking-task thread waits in between, as on the REST route. Under a plain
   * grpc-java server (no request context) the call runs on the caller's executor.
   */
  @Override
  public void recommend(RecommendRequest request, StreamObserver<RecommendResponse> response) {
    Deadline grpcDeadline = Context.current().getDeadline();
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    if (ctx == null) {
      GrpcCalls.reply(
          response,
          () -> toProto(engine.recommend(request.getSurface(), toRequest(request, grpcDeadline))));
      return;
    }
    CompletableFuture<SurfaceResult> pending;
    try {
      pending =
          engine.recommendAsync(
              request.getSurface(), toRequest(request, grpcDeadline), ctx.eventLoop());
    } catch (RuntimeException e) {
      response.onError(GrpcCalls.toStatus(e).asRuntimeException());
      return;
    }
    pending.whenComplete(
        (result, error) -> {
          if (response instanceof ServerCallStreamObserver
              && ((ServerCallStreamObserver<?>) response).isCancelled()) {
            return; // the client gave up or its deadline passed; nobody reads the answer
          }
          if (error != null) {
            response.onError(GrpcCalls.toStatus(error).asRuntimeException());
            return;
          }
          GrpcCalls.reply(response, () -> toProto(result));
        });
  }

  private static SurfaceRequest toRequest(RecommendRequest r, Deadline grpcDeadline) {
    if (r.getSurface().isEmpty()) {
      throw ScorelineException.userError("surface", "surface: name the surface to call");
    }
    Duration deadline = r.getDeadlineMs() > 0 ? Duration.ofMillis(r.getDeadlineMs()) : null;
    if (grpcDeadline != null) {
      // leave a little for the reply to travel
      long ms = Math.max(1, grpcDeadline.timeRemaining(TimeUnit.MILLISECONDS) - 2);
      if (deadline == null || ms < deadline.toMillis()) {
        deadline = Duration.ofMillis(ms);
      }
    }
    return new SurfaceRequest(
        map(r.getKey()),
        map(r.getContext()),
        r.getSize() == 0 ? null : r.getSize(),
        map(r.getRules()),
        r.getDebug(),
        deadline);
  }

  private static RecommendResponse toProto(SurfaceResult res) {
    RecommendResponse.Builder b =
        RecommendResponse.newBuilder()
            .setSurface(res.surface())
            .setModel(res.model())
            .setFallback(res.fallback())
            .putAllTimingsMicros(res.timingsMicros());
    if (res.modelVersion() != null) {
      b.setModelVersion(res.modelVersion());
    }
    if (res.fallbackReason() != null) {
      b.setFallbackReason(res.fallbackReason());
    }
    if (res.score() != null) {
      b.setScore(res.score());
    }
    if (res.snapshot() != null) {
      b.setSnapshot(res.snapshot());
      if (res.snapshotAgeSeconds() != null) {
        b.setSnapshotAgeSeconds(res.snapshotAgeSeconds());
      }
    }
    for (SurfaceResult.Item it : res.items()) {
      b.addItems(
          Item.newBuilder()
              .setId(it.id())
              .setScore(it.score())
              .setRetrievalScore(it.retrievalScore())
              .setPinned(it.pinned()));
    }
    if (res.debug() != null) {
      b.addAllColumns(res.debug().columns());
      for (float[] row : res.debug().inputs()) {
        InputRow.Builder ib = InputRow.newBuilder();
        if (row != null) {
          for (float f : row) {
            ib.addValues(f);
          }
        }
        b.addInputs(ib);
      }
    }
    return b.build();
  }

  /** A Struct as JSON-like Java values; whole numbers become Long. */
  static Map<String, Object> map(Struct s) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
      out.put(e.getKey(), value(e.getValue()));
    }
    return out;
  }

  static Object value(Value v) {
    switch (v.getKindCase()) {
      case NUMBER_VALUE:
        {
          double d = v.getNumberValue();
          if (d == Math.rint(d) && Math.abs(d) < 0x1p53) {
            return (long) d;
          }
          return d;
        }
      case STRING_VALUE:
        return v.getStringValue();
      case BOOL_VALUE:
        return v.getBoolValue();
      case STRUCT_VALUE:
        return map(v.getStructValue());
      case LIST_VALUE:
        {
          ListValue l = v.getListValue();
          List<Object> out = new ArrayList<>(l.getValuesCount());
          for (Value x : l.getValuesList()) {
            out.add(value(x));
          }
          return out;
        }
      case NULL_VALUE:
      case KIND_NOT_SET:
      default:
        return null;
    }
  }
}

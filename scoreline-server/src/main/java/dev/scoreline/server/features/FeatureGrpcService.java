package dev.scoreline.server.features;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.feature.FeatureRef;
import dev.scoreline.core.feature.online.FeatureStatus;
import dev.scoreline.core.feature.online.FeatureVectors;
import dev.scoreline.core.feature.online.OnlineFeatureStore;
import dev.scoreline.server.ErrorMapping;
import dev.scoreline.server.features.FeatureRequests.EntitiesForm;
import dev.scoreline.server.features.FeatureRequests.KeyColumnOf;
import dev.scoreline.server.features.proto.FeatureServiceGrpc;
import dev.scoreline.server.features.proto.FeatureVector;
import dev.scoreline.server.features.proto.FloatList;
import dev.scoreline.server.features.proto.GetOnlineFeaturesRequest;
import dev.scoreline.server.features.proto.GetOnlineFeaturesResponse;
import dev.scoreline.server.features.proto.Int64List;
import dev.scoreline.server.features.proto.PushRequest;
import dev.scoreline.server.features.proto.PushResponse;
import dev.scoreline.server.features.proto.Row;
import dev.scoreline.server.features.proto.StringList;
import dev.scoreline.server.features.proto.Value;
import dev.scoreline.server.features.proto.Values;
import dev.scoreline.server.grpc.GrpcCalls;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC feature service ({@code scoreline.features.v1.FeatureService}, {@code
 * src/main/proto/features.proto}): {@code GetOnlineFeatures} and {@code Push}, the twins of {@code
 * POST /v1/features} and {@code POST /v1/features/push} with the same semantics and errors.
 *
 * <p>Store calls run on Armeria's blocking-task executor when served by Armeria (else on the
 * calling thread); errors become gRPC statuses through {@link ErrorMapping}, with a description
 * naming the request field at fault.
 */
public final class FeatureGrpcService extends FeatureServiceGrpc.FeatureServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(FeatureGrpcService.class);
  private static final Value NULL = Value.getDefaultInstance();

  private final OnlineFeatureStore store;

  public FeatureGrpcService(OnlineFeatureStore store) {
    this.store = requireNonNull(store, "store is null");
  }

  @Override
  public void getOnlineFeatures(
      GetOnlineFeaturesRequest request, StreamObserver<GetOnlineFeaturesResponse> response) {
    GrpcCalls.offload(response, () -> get(request));
  }

  @Override
  public void push(PushRequest request, StreamObserver<PushResponse> response) {
    GrpcCalls.offload(response, () -> push(request));
  }

  private GetOnlineFeaturesResponse get(GetOnlineFeaturesRequest request) {
    String service = null;
    List<String> names = null;
    switch (request.getKindCase()) {
      case FEATURE_SERVICE:
        service = request.getFeatureService();
        break;
      case FEATURES:
        names = request.getFeatures().getFeaturesList();
        break;
      default:
        break;
    }
    List<FeatureRef> features = FeatureRequests.features(store.registry(), service, names);
    Map<String, List<Object>> columns = new LinkedHashMap<>();
    for (Map.Entry<String, Values> e : request.getEntitiesMap().entrySet()) {
      List<Value> values = e.getValue().getValuesList();
      List<Object> column = new ArrayList<>(values.size());
      for (Value v : values) {
        column.add(toJava(v));
      }
      columns.put(e.getKey(), column);
    }
    List<Map<String, Object>> rows = FeatureRequests.columnar(columns, "entities");
    FeatureVectors v =
        FeatureRequests.read(store, features, rows, EntitiesForm.COLUMNS, service != null);
    List<KeyColumnOf> keys = FeatureRequests.keyColumns(store.registry(), v);
    boolean full = request.getFullFeatureNames();
    int n = v.rowCount();
    GetOnlineFeaturesResponse.Builder out = GetOnlineFeaturesResponse.newBuilder();
    for (KeyColumnOf k : keys) {
      out.addFeatureNames(k.name());
      FeatureVector.Builder col = FeatureVector.newBuilder();
      for (int r = 0; r < n; r++) {
        Object key = k.value(rows.get(r), r);
        col.addValues(
            key instanceof Long
                ? Value.newBuilder().setInt64Value((Long) key).build()
                : Value.newBuilder().setStringValue((String) key).build());
        col.addStatuses(dev.scoreline.server.features.proto.FeatureStatus.PRESENT);
        col.addEventTimestampsMicros(0);
      }
      out.addResults(col);
    }
    for (int f = 0; f < v.featureCount(); f++) {
      out.addFeatureNames(FeatureRequests.name(v.features().get(f), full));
      FeatureVector.Builder col = FeatureVector.newBuilder();
      for (int r = 0; r < n; r++) {
        col.addValues(value(v, f, r));
        col.addStatuses(status(v.status(f, r)));
        long micros = v.eventMicros(f, r);
        col.addEventTimestampsMicros(micros == FeatureVectors.NO_TIME ? 0 : micros);
      }
      out.addResults(col);
    }
    return out.build();
  }

  private PushResponse push(PushRequest request) {
    Boolean toOffline;
    switch (request.getTo()) {
      case ONLINE:
        toOffline = false;
        break;
      case ONLINE_AND_OFFLINE:
        toOffline = true;
        break;
      case PUSH_TARGET_UNSPECIFIED:
        toOffline = null;
        break;
      default:
        throw ScorelineException.userError(
            "to", "to is " + request.getToValue() + "; use ONLINE or ONLINE_AND_OFFLINE");
    }
    List<Map<String, Object>> rows = new ArrayList<>(request.getRowsCount());
    for (Row row : request.getRowsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Map.Entry<String, Value> e : row.getColumnsMap().entrySet()) {
        m.put(e.getKey(), toJava(e.getValue()));
      }
      rows.add(m);
    }
    int applied = FeatureRequests.push(store, request.getFeatureView(), rows, toOffline);
    return PushResponse.newBuilder().setWritten(rows.size()).setApplied(applied).build();
  }

  /** A request value as the JSON-like Java value the store converts; an unset kind is null. */
  static Object toJava(Value v) {
    switch (v.getKindCase()) {
      case INT64_VALUE:
        return v.getInt64Value();
      case DOUBLE_VALUE:
        return v.getDoubleValue();
      case FLOAT_VALUE:
        return v.getFloatValue();
      case STRING_VALUE:
        return v.getStringValue();
      case BOOL_VALUE:
        return v.getBoolValue();
      case BYTES_VALUE:
        return v.getBytesValue().toByteArray();
      case FLOAT_LIST:
        List<Float> fl = v.getFloatList().getValuesList();
        float[] fs = new float[fl.size()];
        for (int i = 0; i < fs.length; i++) {
          fs[i] = fl.get(i);
        }
        return fs;
      case INT64_LIST:
        List<Long> ll = v.getInt64List().getValuesList();
        long[] ls = new long[ll.size()];
        for (int i = 0; i < ls.length; i++) {
          ls[i] = ll.get(i);
        }
        return ls;
      case STRING_LIST:
        return Collections.unmodifiableList(new ArrayList<>(v.getStringList().getValuesList()));
      case KIND_NOT_SET:
      default:
        return null;
    }
  }

  private static Value value(FeatureVectors v, int f, int r) {
    if (!v.isPresent(f, r)) {
      return NULL;
    }
    Value.Builder b = Value.newBuilder();
    switch (v.type(f)) {
      case INT64:
        return b.setInt64Value(v.getLong(f, r)).build();
      case FP64:
        return b.setDoubleValue(v.getDouble(f, r)).build();
      case FP32:
        return b.setFloatValue(v.getFloat(f, r)).build();
      case BOOL:
        return b.setBoolValue(v.getBoolean(f, r)).build();
      case STRING:
        return b.setStringValue((String) v.value(f, r)).build();
      case BYTES:
        return b.setBytesValue(ByteString.copyFrom((byte[]) v.value(f, r))).build();
      case FP32_LIST:
        FloatList.Builder fl = FloatList.newBuilder();
        for (float x : (float[]) v.value(f, r)) {
          fl.addValues(x);
        }
        return b.setFloatList(fl).build();
      case INT64_LIST:
        Int64List.Builder il = Int64List.newBuilder();
        for (long x : (long[]) v.value(f, r)) {
          il.addValues(x);
        }
        return b.setInt64List(il).build();
      case STRING_LIST:
        StringList.Builder sl = StringList.newBuilder();
        for (Object s : (List<?>) v.value(f, r)) {
          sl.addValues((String) s);
        }
        return b.setStringList(sl).build();
      default:
        throw new IllegalStateException("unreachable: " + v.type(f));
    }
  }

  private static dev.scoreline.server.features.proto.FeatureStatus status(FeatureStatus s) {
    switch (s) {
      case PRESENT:
        return dev.scoreline.server.features.proto.FeatureStatus.PRESENT;
      case NOT_FOUND:
        return dev.scoreline.server.features.proto.FeatureStatus.NOT_FOUND;
      case EXPIRED:
        return dev.scoreline.server.features.proto.FeatureStatus.EXPIRED;
      case NULL:
        return dev.scoreline.server.features.proto.FeatureStatus.NULL_VALUE;
      default:
        throw new IllegalStateException("unreachable: " + s);
    }
  }

  // ---------------------------------------------------------------- plumbing

  static Status toStatus(Throwable t) {
    return GrpcCalls.toStatus(t);
  }
}

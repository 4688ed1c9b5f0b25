package dev.scoreline.onnx;

import static java.util.Objects.requireNonNull;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.scoreline.core.error.ErrorCode;
import dev.scoreline.core.error.ScorelineException;
import dev.scoreline.core.model.ModelSignature;
import dev.scoreline.core.model.RuntimeOptions;
import dev.scoreline.core.model.TensorSpec;
import dev.scoreline.core.model.spi.LoadedModel;
import dev.scoreline.core.model.spi.ModelRuntime;
import dev.scoreline.core.model.spi.ModelSource;
import dev.scoreline.core.tensor.DataType;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ONNX Runtime {@link ModelRuntime}: loads {@code model.onnx} files on the CPU, or on a CUDA
 * GPU when {@code execution-provider: cuda} is configured and the CUDA build of ONNX Runtime and a
 * GPU are present (otherwise it warns and falls back to the CPU).
 *
 * <p>The ONNX Runtime environment is a per-JVM singleton; this runtime uses it and never closes it.
 */
public final class OnnxRuntime implements ModelRuntime {
  private static final Logger log = LoggerFactory.getLogger(OnnxRuntime.class);

  static final String CUDA_FIX =
      "add com.microsoft.onnxruntime:onnxruntime_gpu (instead of onnxruntime) and a CUDA GPU, or"
          + " set execution-provider: cpu";

  private final OrtEnvironment env;

  public OnnxRuntime() {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      // Tensors hold little-endian bytes which ORT reads in native order.
      throw new ScorelineException(
          ErrorCode.UNSUPPORTED,
          "the ONNX runtime needs a little-endian platform; this JVM runs on "
              + System.getProperty("os.arch"));
    }
    try {
      this.env = OrtEnvironment.getEnvironment();
    } catch (RuntimeException | LinkageError e) {
      throw new ScorelineException(
          ErrorCode.UNSUPPORTED,
          "ONNX Runtime's native library could not be loaded on "
              + System.getProperty("os.name")
              + "/"
              + System.getProperty("os.arch")
              + ": "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public String platform() {
    return "onnx";
  }

  @Override
  public String metadataPlatform() {
    return "onnx_onnxv1";
  }

  @Override
  public LoadedModel load(ModelSource source) {
    requireNonNull(source, "source is null");
    String model = source.name() + " version " + source.version();
    Path file = source.file();
    if (!Files.isRegularFile(file)) {
      throw new ScorelineException(
          ErrorCode.USER_ERROR,
          model + ": model file " + file + " does not exist or is not a regular file");
    }
    RuntimeOptions options = source.config().runtime();
    OrtSession session = null;
    UnsignedCasts casts = UnsignedCasts.NONE;
    try {
      Created created = createSession(model, file, options);
      session = created.session();
      List<TensorSpec> inputs = specs(model, file, "input", session.getInputInfo());
      List<TensorSpec> outputs = specs(model, file, "output", session.getOutputInfo());
      ModelSignature signature =
          ModelSignature.reconcile(source.name(), source.config(), inputs, outputs);
      casts = UnsignedCasts.forInputs(env, signature.inputs());
      log.info(
          "loaded {} from {} on {}: inputs {}, outputs {}",
          model,
          file,
          created.device(),
          signature.inputs(),
          signature.outputs());
      return new OnnxLoadedModel(model, env, session, signature, created.device(), casts);
    } catch (OrtException e) {
      closeQuietly(session, casts);
      throw new ScorelineException(
          ErrorCode.INTERNAL,
          model + ": ONNX Runtime failed while inspecting " + file + ": " + e.getMessage(),
          e);
    } catch (RuntimeException e) {
      closeQuietly(session, casts);
      throw e;
    }
  }

  private record Created(OrtSession session, String device) {}

  /** Creates the session, on CUDA when asked and possible, else on the CPU. */
  private Created createSession(String model, Path file, RuntimeOptions options) {
    Throwable cudaFailure = null;
    if (options.executionProvider().equals("cuda")) {
      try (OrtSession.SessionOptions so = sessionOptions(options)) {
        so.addCUDA(options.deviceId());
        return new Created(env.createSession(file.toString(), so), "cuda:" + options.deviceId());
      } catch (OrtException | RuntimeException | LinkageError e) {
        cudaFailure = e;
      }
    }
    OrtSession session;
    try (OrtSession.SessionOptions so = sessionOptions(options)) {
      session = env.createSession(file.toString(), so);
    } catch (OrtException e) {
      ScorelineException error =
          new ScorelineException(
              ErrorCode.USER_ERROR,
              model
                  + ": ONNX Runtime cannot load "
                  + file
                  + ": "
                  + e.getMessage()
                  + " (is it a valid .onnx file, exported with an opset this ONNX Runtime "
                  + env.getVersion()
                  + " supports?)",
              e);
      if (cudaFailure != null) {
        error.addSuppressed(cudaFailure);
      }
      throw error;
    }
    if (cudaFailure != null) {
      log.warn(
          "{}: execution-provider cuda (device {}) is not available, running on the CPU instead;"
              + " to use the GPU, {}. Cause: {}",
          model,
          options.deviceId(),
          CUDA_FIX,
          cudaFailure.toString());
    }
    return new Created(session, "cpu");
  }

  private static OrtSession.SessionOptions sessionOptions(RuntimeOptions options)
      throws OrtException {
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    try {
      if (options.intraOpThreads() > 0) {
        so.setIntraOpNumThreads(options.intraOpThreads());
      }
      if (options.interOpThreads() > 0) {
        so.setInterOpNumThreads(options.interOpThreads());
      }
      so.setOptimizationLevel(optLevel(options.optimizationLevel()));
      return so;
    } catch (OrtException | RuntimeException e) {
      so.close();
      throw e;
    }
  }

  private static OrtSession.SessionOptions.OptLevel optLevel(String level) {
    switch (level) {
      case "none":
        return OrtSession.SessionOptions.OptLevel.NO_OPT;
      case "basic":
        return OrtSession.SessionOptions.OptLevel.BASIC_OPT;
      case "extended":
        return OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
      default:
        return OrtSession.SessionOptions.OptLevel.ALL_OPT;
    }
  }

  /** The inputs or outputs the file declares; only tensors of Scoreline datatypes are accepted. */
  private static List<TensorSpec> specs(
      String model, Path file, String what, Map<String, NodeInfo> infos) {
    List<TensorSpec> specs = new ArrayList<>(infos.size());
    for (NodeInfo node : infos.values()) {
      ValueInfo info = node.getInfo();
      if (!(info instanceof TensorInfo)) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            model
                + ": "
                + file
                + " is not supported: its "
                + what
                + " '"
                + node.getName()
                + "' is a "
                + kind(info)
                + ", not a tensor. Scoreline serves models whose inputs and outputs are all tensors;"
                + " re-export the model with tensor outputs (for scikit-learn classifiers, convert"
                + " with options {'zipmap': False})");
      }
      TensorInfo tensor = (TensorInfo) info;
      DataType type = OnnxTypes.dataType(tensor.onnxType);
      if (type == null) {
        throw new ScorelineException(
            ErrorCode.USER_ERROR,
            model
                + ": "
                + file
                + " is not supported: its "
                + what
                + " '"
                + node.getName()
                + "' has element type "
                + tensor.onnxType
                + ", which has no Open Inference Protocol datatype; cast it inside the model to one"
                + " of "
                + List.of(DataType.values()));
      }
      long[] shape = tensor.getShape();
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = -1;
        }
      }
      specs.add(new TensorSpec(node.getName(), type, shape));
    }
    return specs;
  }

  private static String kind(ValueInfo info) {
    if (info instanceof SequenceInfo) {
      return "sequence (" + info + ")";
    }
    if (info instanceof MapInfo) {
      return "map (" + info + ")";
    }
    return info == null ? "value of unknown kind" : info.toString();
  }

  private static void closeQuietly(OrtSession session, UnsignedCasts casts) {
    casts.close();
    if (session != null) {
      try {
        session.close();
      } catch (OrtException | RuntimeException e) {
        log.debug("closing a half-loaded session failed", e);
      }
    }
  }
}

package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.io.CheckpointIO;
import org.dtmspark.core.io.CheckpointMeta;
import org.dtmspark.core.io.SafeTensors;
import org.dtmspark.core.io.SafeTensorsFile;
import org.dtmspark.core.io.TensorData;
import org.dtmspark.core.nn.Parameters;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.precision.LossScaler;
import org.dtmspark.core.teacher.ManagedTeacher;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.VitTeacher;

/**
 * Saves and loads this project's ViT checkpoints: weights with timm/BEiT names in {@code
 * model.safetensors}, the model configuration, step, random-stream state, training configuration
 * and provenance in {@code checkpoint.json}, and the AdamW moments in {@code
 * optimizer.safetensors}. Written atomically (see {@link CheckpointIO#save}).
 */
public final class ModelCheckpoints {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The normalisation this project's models are trained with. */
  public static final String NORMALIZATION = "imagenet";

  private ModelCheckpoints() {}

  /**
   * A loaded model with what is needed to resume training it.
   *
   * @param model the model, its parameters on the manager given to {@link #load}
   * @param step global step the checkpoint was written at
   * @param meta the sidecar
   * @param optimizer optimizer state file, when present
   */
  public record Loaded(
      VisionTransformer model,
      long step,
      CheckpointMeta meta,
      Optional<SafeTensorsFile> optimizer) {
    /** Restores AdamW moments and step count; fails when the checkpoint has none. */
    public void restoreOptimizer(AdamW adamW) {
      SafeTensorsFile file =
          optimizer.orElseThrow(
              () ->
                  new IllegalArgumentException(
                      "Checkpoint at step " + step + " has no " + CheckpointIO.OPTIMIZER_FILE));
      NDManager manager = model.parameters().manager();
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      for (Map.Entry<String, TensorData> e : file.tensors().entrySet()) {
        NDArray a = e.getValue().toNDArray(manager);
        NDScope.unregister(a);
        tensors.put(e.getKey(), a);
      }
      adamW.loadState(tensors, file.metadata());
    }

    /**
     * Continues {@code scaler} from the loss-scale state saved with the optimizer; returns false,
     * leaving it as it is, when the checkpoint has none (a run saved before loss scaling existed).
     */
    public boolean restoreScaler(LossScaler scaler) {
      Map<String, String> metadata = optimizer.map(SafeTensorsFile::metadata).orElse(Map.of());
      if (!LossScaler.isIn(metadata)) {
        return false;
      }
      scaler.restore(metadata);
      return true;
    }
  }

  /**
   * Writes a checkpoint of {@code model} (and {@code optimizer}, when not null), without loss-scale
   * state.
   *
   * @param trainingConfig the resolved settings record of the job, stored for provenance
   */
  public static void save(
      Path dir,
      VisionTransformer model,
      AdamW optimizer,
      long step,
      long stepsPerEpoch,
      Object trainingConfig,
      String dataIdentity,
      String kind) {
    save(dir, model, optimizer, null, step, stepsPerEpoch, 1, trainingConfig, dataIdentity, kind);
  }

  /**
   * Writes a checkpoint of {@code model} (and {@code optimizer}, when not null); the state of
   * {@code scaler}, when not null, goes into the optimizer file's metadata ({@code loss_scale.*});
   * the data position records {@code streams}, the number of virtual streams the batch plan dealt
   * the data to (see {@link BatchPlan}).
   *
   * @param trainingConfig the resolved settings record of the job, stored for provenance
   */
  public static void save(
      Path dir,
      VisionTransformer model,
      AdamW optimizer,
      LossScaler scaler,
      long step,
      long stepsPerEpoch,
      int streams,
      Object trainingConfig,
      String dataIdentity,
      String kind) {
    long seed = seedOf(trainingConfig);
    Map<String, Object> rng = new LinkedHashMap<>();
    rng.put("seed", seed);
    rng.put("next_step", step);
    rng.put("scheme", "Seeds.rng(seed, purpose, epoch|step|position)");
    // Where the data stands: the epoch's seeded order and the next global batch within it.
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("epoch", step / Math.max(1, stepsPerEpoch));
    data.put("step_in_epoch", step % Math.max(1, stepsPerEpoch));
    data.put("steps_per_epoch", stepsPerEpoch);
    data.put("streams", streams);
    rng.put("data_position", data);
    CheckpointMeta meta =
        new CheckpointMeta(
            CheckpointIO.FORMAT_VERSION,
            kind,
            toMap(model.config()),
            step,
            (int) (step / Math.max(1, stepsPerEpoch)),
            rng,
            toMap(trainingConfig),
            CheckpointIO.provenance(dataIdentity, seed, Instant.now()),
            NORMALIZATION);
    Map<String, TensorData> weights = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : model.parameters().asMap().entrySet()) {
      weights.put(e.getKey(), TensorData.fromNDArray(e.getValue()));
    }
    Map<String, TensorData> opt = null;
    Map<String, String> optMeta = null;
    if (optimizer != null) {
      opt = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> e : optimizer.stateTensors().entrySet()) {
        opt.put(e.getKey(), TensorData.fromNDArray(e.getValue()));
      }
      optMeta = new LinkedHashMap<>(optimizer.stateMetadata());
      if (scaler != null) {
        optMeta.putAll(scaler.toMetadata());
      }
    }
    try {
      CheckpointIO.save(dir, meta, weights, opt, optMeta);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write checkpoint " + dir, e);
    }
  }

  /**
   * The number of streams in the data position of a checkpoint's {@code rng_state}, or -1 when it
   * records none (written before streams existed).
   */
  public static int streams(CheckpointMeta meta) {
    Object position = meta.rngState() == null ? null : meta.rngState().get("data_position");
    if (position instanceof Map<?, ?> map && map.get("streams") instanceof Number n) {
      return n.intValue();
    }
    return -1;
  }

  /** Loads the model of a checkpoint onto {@code manager}. */
  public static Loaded load(Path dir, NDManager manager) {
    CheckpointIO.LoadedCheckpoint loaded;
    try {
      loaded = CheckpointIO.load(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read checkpoint " + dir + ": " + e.getMessage(), e);
    }
    VitConfig config;
    try {
      config = MAPPER.convertValue(loaded.meta().modelConfig(), VitConfig.class);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Checkpoint " + dir + " has an invalid model configuration: " + e.getMessage(), e);
    }
    Parameters params = Parameters.create(manager);
    for (Map.Entry<String, TensorData> e : loaded.weights().tensors().entrySet()) {
      NDArray a = e.getValue().toNDArray(params.manager());
      NDScope.unregister(a);
      params.put(e.getKey(), a);
    }
    VisionTransformer model;
    try {
      model = VisionTransformer.fromParameters(config, params);
    } catch (IllegalArgumentException e) {
      boolean oldClassifier = config.classifierLayout() && params.contains("norm.weight");
      params.close();
      throw new IllegalArgumentException(
          "Checkpoint "
              + dir
              + ": "
              + e.getMessage()
              + (oldClassifier
                  ? " (a classifier written before classifiers took BEiT's fine-tuning layout,"
                      + " fc_norm instead of the final norm and no mask token; fine-tune it again)"
                  : ""),
          e);
    }
    return new Loaded(model, loaded.meta().step(), loaded.meta(), loaded.optimizer());
  }

  /**
   * Opens a checkpoint of this project as a frozen teacher with its own manager.
   *
   * @param normalization {@code teacher} (the checkpoint's own) or {@code imagenet}
   * @param useTokenHead use the checkpoint's {@code lm_head} when it has one; otherwise the
   *     teacher's tokens are its final patch features
   */
  public static Teacher loadTeacher(Path dir, String normalization, boolean useTokenHead) {
    NDManager manager = NDManager.newBaseManager();
    try {
      Loaded loaded = load(dir, manager);
      ImageNormalization norm =
          ImageNormalization.named(
              "teacher".equals(normalization) ? loaded.meta().normalization() : normalization);
      boolean head = useTokenHead && loaded.model().config().tokenHeadDim() > 0;
      VitTeacher teacher =
          new VitTeacher(dir.toAbsolutePath().toString(), loaded.model(), norm, head);
      return new ManagedTeacher(teacher, manager);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> toMap(Object value) {
    return MAPPER.convertValue(value, Map.class);
  }

  private static long seedOf(Object trainingConfig) {
    Object seed = toMap(trainingConfig).get("seed");
    return seed instanceof Number n ? n.longValue() : 0L;
  }

  /** Loads a checkpoint's weights file alone (tools, tests). */
  static SafeTensorsFile weights(Path dir) throws IOException {
    return SafeTensors.read(dir.resolve(CheckpointIO.MODEL_FILE));
  }
}

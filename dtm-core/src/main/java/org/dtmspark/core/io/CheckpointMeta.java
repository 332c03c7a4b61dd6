package org.dtmspark.core.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The JSON sidecar of a checkpoint ({@code checkpoint.json}): what the weights are, how far
 * training got, and where they came from.
 *
 * <p>Maps hold JSON values (strings, numbers, booleans, null, lists, maps). After a round trip
 * through JSON, whole numbers come back as {@code Integer} when they fit, else {@code Long}, and
 * fractional numbers as {@code Double}: read numbers through {@link Number}.
 *
 * @param formatVersion version of the checkpoint layout, {@link CheckpointIO#FORMAT_VERSION} for
 *     what this build writes
 * @param kind {@link #KIND_STUDENT} or {@link #KIND_CLASSIFIER}
 * @param modelConfig the model configuration's fields by name (the fields of {@code VitConfig}:
 *     name, imageSize, patchSize, inChannels, embedDim, depth, numHeads, mlpDim, layerScaleInit,
 *     relPosBias, sharedRelPosBias, tokenHeadDim, numClasses, dropPath)
 * @param step optimizer steps taken, at least 0
 * @param epoch epochs completed, at least 0
 * @param rngState whatever the trainer needs to resume its random streams (seeds, counters)
 * @param trainingConfig the resolved training configuration
 * @param provenance code version, data identity, seed, creation time (see {@link
 *     CheckpointIO#provenance})
 * @param normalization name of the input normalization the model expects, e.g. {@code imagenet}
 */
public record CheckpointMeta(
    int formatVersion,
    String kind,
    Map<String, Object> modelConfig,
    long step,
    int epoch,
    Map<String, Object> rngState,
    Map<String, Object> trainingConfig,
    Map<String, Object> provenance,
    String normalization) {

  /** Kind of a pretrained DTM student. */
  public static final String KIND_STUDENT = "dtm-student";

  /** Kind of a classifier (linear probe or fine-tuned). */
  public static final String KIND_CLASSIFIER = "classifier";

  private static final Set<String> KINDS = Set.of(KIND_STUDENT, KIND_CLASSIFIER);

  public CheckpointMeta {
    if (formatVersion < 1) {
      throw new IllegalArgumentException(
          "Checkpoint formatVersion must be at least 1, cannot be: " + formatVersion);
    }
    if (!KINDS.contains(kind)) {
      throw new IllegalArgumentException(
          "Checkpoint kind must be one of ["
              + KIND_STUDENT
              + ", "
              + KIND_CLASSIFIER
              + "], cannot be: "
              + kind);
    }
    Objects.requireNonNull(modelConfig, "modelConfig");
    if (step < 0) {
      throw new IllegalArgumentException("Checkpoint step must be at least 0, cannot be: " + step);
    }
    if (epoch < 0) {
      throw new IllegalArgumentException(
          "Checkpoint epoch must be at least 0, cannot be: " + epoch);
    }
    Objects.requireNonNull(normalization, "normalization");
    modelConfig = readOnly(modelConfig);
    rngState = readOnly(rngState);
    trainingConfig = readOnly(trainingConfig);
    provenance = readOnly(provenance);
  }

  private static Map<String, Object> readOnly(Map<String, Object> map) {
    return map == null
        ? Collections.emptyMap()
        : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}

package org.dtmspark.core.teacher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;

/**
 * A frozen {@link VisionTransformer} (for example a checkpoint of this project) used as teacher.
 *
 * <p>Targets are the patch tokens after the final norm, through {@code lm_head} when {@code
 * useTokenHead} (P = {@code tokenHeadDim}) or as they are (P = D); CLS is dropped. A fine-tuned
 * classifier has no final norm: its tokens go through {@code fc_norm} instead ({@link
 * VisionTransformer#normalizedTokens}). The teacher owns the model: it switches off gradient
 * tracking of every parameter when constructed and closes the model when closed. Its outputs never
 * carry an autograd graph, even while a gradient collector is recording the student.
 *
 * <p>The forward pass runs on the device of the model's parameters, in float32 or, when asked, in
 * float16 (the parameters are then cast once, at construction); targets come back as float32 on the
 * pixels' device.
 */
public final class VitTeacher implements Teacher {
  private final String id;
  private final VisionTransformer model;
  private final ImageNormalization normalization;
  private final boolean useTokenHead;
  private final DataType computeType;

  /**
   * A float32 teacher.
   *
   * @param id identifies the teacher in caches and provenance
   * @param model the encoder, owned by this teacher from now on
   * @param normalization mean/std applied to pixels in [0, 1], one entry per input channel
   * @param useTokenHead whether targets go through {@code lm_head}, which the model must then have
   */
  public VitTeacher(
      String id, VisionTransformer model, ImageNormalization normalization, boolean useTokenHead) {
    this(id, model, normalization, useTokenHead, DataType.FLOAT32);
  }

  /**
   * A teacher computing in {@code computeType}.
   *
   * @param id identifies the teacher in caches and provenance
   * @param model the encoder, owned by this teacher from now on; with float16 its floating-point
   *     parameters are replaced by float16 copies
   * @param normalization mean/std applied to pixels in [0, 1], one entry per input channel
   * @param useTokenHead whether targets go through {@code lm_head}, which the model must then have
   * @param computeType {@link DataType#FLOAT32} or {@link DataType#FLOAT16}
   */
  public VitTeacher(
      String id,
      VisionTransformer model,
      ImageNormalization normalization,
      boolean useTokenHead,
      DataType computeType) {
    ClipVisionTeacher.requireComputeType(computeType);
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("Teacher id must not be blank, cannot be: " + id);
    }
    VitConfig config = model.config();
    if (useTokenHead && config.tokenHeadDim() == 0) {
      throw new IllegalArgumentException(
          "Teacher " + id + " uses the token head, but model '" + config.name() + "' has none");
    }
    if (normalization.mean().length != config.inChannels()) {
      throw new IllegalArgumentException(
          "Normalization must have one entry per input channel ("
              + config.inChannels()
              + "), cannot have: "
              + normalization.mean().length);
    }
    this.id = id;
    this.model = model;
    this.normalization = normalization;
    this.useTokenHead = useTokenHead;
    this.computeType = computeType;
    for (Map.Entry<String, NDArray> p : Map.copyOf(model.parameters().asMap()).entrySet()) {
      NDArray value = p.getValue();
      if (value.getDataType().isFloating() && value.getDataType() != computeType) {
        model.parameters().replace(p.getKey(), value.toType(computeType, false));
      }
    }
    for (NDArray p : model.parameters().asMap().values()) {
      p.setRequiresGradient(false);
    }
  }

  /** The type the forward pass computes in. */
  public DataType computeType() {
    return computeType;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int imageSize() {
    return model.config().imageSize();
  }

  @Override
  public int numTokens() {
    return model.config().numPatches();
  }

  @Override
  public int dim() {
    return useTokenHead ? model.config().tokenHeadDim() : model.config().embedDim();
  }

  @Override
  public ImageNormalization normalization() {
    return normalization;
  }

  /**
   * Computes target tokens without recording gradients.
   *
   * @param pixels {@code [B, C, imageSize, imageSize]}, values in [0, 1], not normalised, on any
   *     device
   * @return {@code [B, N, P]} float32, detached from any autograd graph, on the manager and device
   *     of {@code pixels}
   */
  @Override
  public NDArray targets(NDArray pixels) {
    NDManager out = pixels.getManager();
    NDManager weights = model.parameters().manager();
    // The scope lives on the parameters' device, so that every array made inside is there too.
    try (NDManager scope = weights.newSubManager()) {
      NDArray input = pixels.toDevice(weights.getDevice(), true); // a copy: pixels stay put
      input.attach(scope);
      NDArray x =
          normalization
              .apply(input.stopGradient().toType(DataType.FLOAT32, false))
              .toType(computeType, false);
      NDArray features = model.forwardFeatures(x, null, false, null);
      NDArray tokens =
          useTokenHead
              ? model.predictTokens(features)
              : model.normalizedTokens(features).get(":, 1:, :"); // [B, N, P]
      NDArray targets =
          tokens.stopGradient().toType(DataType.FLOAT32, false).toDevice(out.getDevice(), false);
      targets.attach(out);
      return targets;
    }
  }

  /** Shape of the targets of a batch of {@code batch} images, {@code [B, N, P]}. */
  public Shape targetShape(long batch) {
    return new Shape(batch, numTokens(), dim());
  }

  @Override
  public void close() {
    model.close();
  }
}

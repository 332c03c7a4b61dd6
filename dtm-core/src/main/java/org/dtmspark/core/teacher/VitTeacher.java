package org.dtmspark.core.teacher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;

/**
 * A frozen {@link VisionTransformer} (for example a checkpoint of this project) used as teacher.
 *
 * <p>Targets are the patch tokens after the final norm, through {@code lm_head} when {@code
 * useTokenHead} (P = {@code tokenHeadDim}) or as they are (P = D); CLS is dropped. The teacher owns
 * the model: it switches off gradient tracking of every parameter when constructed and closes the
 * model when closed. Its outputs never carry an autograd graph, even while a gradient collector is
 * recording the student.
 */
public final class VitTeacher implements Teacher {
  private final String id;
  private final VisionTransformer model;
  private final ImageNormalization normalization;
  private final boolean useTokenHead;

  /**
   * @param id identifies the teacher in caches and provenance
   * @param model the encoder, owned by this teacher from now on
   * @param normalization mean/std applied to pixels in [0, 1], one entry per input channel
   * @param useTokenHead whether targets go through {@code lm_head}, which the model must then have
   */
  public VitTeacher(
      String id, VisionTransformer model, ImageNormalization normalization, boolean useTokenHead) {
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
    for (NDArray p : model.parameters().asMap().values()) {
      p.setRequiresGradient(false);
    }
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
   * @param pixels {@code [B, C, imageSize, imageSize]}, values in [0, 1], not normalised
   * @return {@code [B, N, P]} detached from any autograd graph, on the manager of {@code pixels}
   */
  @Override
  public NDArray targets(NDArray pixels) {
    NDManager out = pixels.getManager();
    try (NDManager scope = out.newSubManager()) {
      scope.tempAttachAll(pixels);
      NDArray features = model.forwardFeatures(normalization.apply(pixels), null, false, null);
      NDArray tokens =
          useTokenHead ? model.predictTokens(features) : features.get(":, 1:, :"); // [B, N, P]
      NDArray targets = tokens.stopGradient();
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

package org.dtmspark.core.nn;

import java.util.List;

/**
 * Shape and options of the BEiT-style Vision Transformer student ({@link VisionTransformer}).
 *
 * <p>Sizes follow Table 12 of the DTM paper ({@link #preset}); {@code tiny} is this project's own
 * size for tests and the demo.
 *
 * @param name a label for logs and checkpoints, for example {@code small}
 * @param imageSize input resolution in pixels (square), a multiple of {@code patchSize}
 * @param patchSize side of one square patch in pixels, p
 * @param inChannels number of image channels, C
 * @param embedDim token dimension, D, a multiple of {@code numHeads}
 * @param depth number of transformer blocks
 * @param numHeads number of attention heads
 * @param mlpDim hidden dimension of the MLP in every block
 * @param layerScaleInit initial value of the layer scale gammas; 0 means no layer scale
 * @param relPosBias whether every block has its own relative position bias table
 * @param sharedRelPosBias whether one relative position bias table is shared by all blocks
 * @param tokenHeadDim output dimension P of the pretraining head {@code lm_head}; 0 means no head
 * @param numClasses number of classes K of the classifier head {@code head}; 0 means no head. A
 *     classifier without a pretraining head ({@link #classifierLayout()}) is BEiT's fine-tuning
 *     model: no mask token, and {@code fc_norm} after mean pooling instead of the final {@code
 *     norm} (timm's {@code Beit(global_pool='avg')})
 * @param dropPath maximum stochastic depth rate (reached by the last block), in [0, 1)
 */
public record VitConfig(
    String name,
    int imageSize,
    int patchSize,
    int inChannels,
    int embedDim,
    int depth,
    int numHeads,
    int mlpDim,
    double layerScaleInit,
    boolean relPosBias,
    boolean sharedRelPosBias,
    int tokenHeadDim,
    int numClasses,
    double dropPath) {

  /** The sizes {@link #preset} knows. */
  public static final List<String> SIZES = List.of("tiny", "small", "base", "large");

  public VitConfig {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("Model name must not be blank, cannot be: " + name);
    }
    requirePositive("imageSize", imageSize);
    requirePositive("patchSize", patchSize);
    requirePositive("inChannels", inChannels);
    requirePositive("embedDim", embedDim);
    requirePositive("depth", depth);
    requirePositive("numHeads", numHeads);
    requirePositive("mlpDim", mlpDim);
    if (imageSize % patchSize != 0) {
      throw new IllegalArgumentException(
          "imageSize must be a multiple of patchSize " + patchSize + ", cannot be: " + imageSize);
    }
    if (embedDim % numHeads != 0) {
      throw new IllegalArgumentException(
          "embedDim must be a multiple of numHeads " + numHeads + ", cannot be: " + embedDim);
    }
    if (!(layerScaleInit >= 0) || Double.isInfinite(layerScaleInit)) {
      throw new IllegalArgumentException(
          "layerScaleInit must be finite and at least 0 (0 = no layer scale), cannot be: "
              + layerScaleInit);
    }
    if (tokenHeadDim < 0) {
      throw new IllegalArgumentException(
          "tokenHeadDim must be at least 0 (0 = no pretraining head), cannot be: " + tokenHeadDim);
    }
    if (numClasses < 0) {
      throw new IllegalArgumentException(
          "numClasses must be at least 0 (0 = no classifier head), cannot be: " + numClasses);
    }
    if (!(dropPath >= 0 && dropPath < 1)) {
      throw new IllegalArgumentException("dropPath must be in [0, 1), cannot be: " + dropPath);
    }
  }

  private static void requirePositive(String field, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(field + " must be at least 1, cannot be: " + value);
    }
  }

  /**
   * A size of paper Table 12 (or {@code tiny}) with relative position bias per block and shared, no
   * heads and no drop path.
   *
   * <table>
   *   <caption>Presets</caption>
   *   <tr><th>size</th><th>D</th><th>depth</th><th>heads</th><th>MLP</th><th>layer scale</th></tr>
   *   <tr><td>tiny</td><td>192</td><td>4</td><td>3</td><td>768</td><td>0.1</td></tr>
   *   <tr><td>small</td><td>384</td><td>12</td><td>6</td><td>1536</td><td>0.1</td></tr>
   *   <tr><td>base</td><td>768</td><td>12</td><td>12</td><td>3072</td><td>0.1</td></tr>
   *   <tr><td>large</td><td>1024</td><td>24</td><td>16</td><td>4096</td><td>1e-5</td></tr>
   * </table>
   *
   * @param size one of {@link #SIZES}
   * @param imageSize input resolution, a multiple of {@code patchSize}
   * @param patchSize patch side in pixels
   */
  public static VitConfig preset(String size, int imageSize, int patchSize) {
    return switch (size) {
      case "tiny" -> preset(size, imageSize, patchSize, 192, 4, 3, 768, 0.1);
      case "small" -> preset(size, imageSize, patchSize, 384, 12, 6, 1536, 0.1);
      case "base" -> preset(size, imageSize, patchSize, 768, 12, 12, 3072, 0.1);
      case "large" -> preset(size, imageSize, patchSize, 1024, 24, 16, 4096, 1e-5);
      default ->
          throw new IllegalArgumentException(
              "Unknown model size, must be one of " + SIZES + ", cannot be: " + size);
    };
  }

  private static VitConfig preset(
      String size,
      int imageSize,
      int patchSize,
      int embedDim,
      int depth,
      int numHeads,
      int mlpDim,
      double layerScale) {
    return new VitConfig(
        size,
        imageSize,
        patchSize,
        3,
        embedDim,
        depth,
        numHeads,
        mlpDim,
        layerScale,
        true,
        true,
        0,
        0,
        0.0);
  }

  /**
   * Whether this is a classifier in the layout of BEiT's fine-tuning model and timm's {@code
   * Beit(global_pool='avg')}: a classifier head and no pretraining head. Such a model has no mask
   * token and no final {@code norm} ({@code fc_norm} after pooling replaces it), so its parameters
   * are exactly timm's state dict. A model with both heads keeps the pretraining layout (mask
   * token, final norm, the classifier pooling normalised tokens). (Not named {@code isX}: the
   * config is serialised to JSON from its components only.)
   */
  public boolean classifierLayout() {
    return numClasses > 0 && tokenHeadDim == 0;
  }

  /** Patches per side, {@code imageSize / patchSize}. */
  public int gridSize() {
    return imageSize / patchSize;
  }

  /** Number of patch tokens N (the CLS token not counted). */
  public int numPatches() {
    return gridSize() * gridSize();
  }

  /** Dimension of one attention head, {@code embedDim / numHeads}. */
  public int headDim() {
    return embedDim / numHeads;
  }

  /** This config with a pretraining head of output dimension {@code dim} (0 removes it). */
  public VitConfig withTokenHeadDim(int dim) {
    return new VitConfig(
        name,
        imageSize,
        patchSize,
        inChannels,
        embedDim,
        depth,
        numHeads,
        mlpDim,
        layerScaleInit,
        relPosBias,
        sharedRelPosBias,
        dim,
        numClasses,
        dropPath);
  }

  /** This config with a classifier head of {@code classes} outputs (0 removes it). */
  public VitConfig withNumClasses(int classes) {
    return new VitConfig(
        name,
        imageSize,
        patchSize,
        inChannels,
        embedDim,
        depth,
        numHeads,
        mlpDim,
        layerScaleInit,
        relPosBias,
        sharedRelPosBias,
        tokenHeadDim,
        classes,
        dropPath);
  }

  /** This config with maximum drop path rate {@code rate}. */
  public VitConfig withDropPath(double rate) {
    return new VitConfig(
        name,
        imageSize,
        patchSize,
        inChannels,
        embedDim,
        depth,
        numHeads,
        mlpDim,
        layerScaleInit,
        relPosBias,
        sharedRelPosBias,
        tokenHeadDim,
        numClasses,
        rate);
  }

  /**
   * This config at another resolution. The relative position tables depend on the grid, so
   * parameters of one resolution do not fit a model of another.
   */
  public VitConfig withImageSize(int size) {
    return new VitConfig(
        name,
        size,
        patchSize,
        inChannels,
        embedDim,
        depth,
        numHeads,
        mlpDim,
        layerScaleInit,
        relPosBias,
        sharedRelPosBias,
        tokenHeadDim,
        numClasses,
        dropPath);
  }
}

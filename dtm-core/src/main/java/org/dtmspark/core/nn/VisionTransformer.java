package org.dtmspark.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The BEiT v2-style Vision Transformer student, written as plain NDArray functions over named
 * {@link Parameters}.
 *
 * <p>There are no DJL blocks: parameters carry timm/BEiT v2 names ({@link #parameterShapes}), the
 * forward pass is a sequence of NDArray operations, gradients come from DJL's gradient collector on
 * the parameters (after {@link Parameters#requireGradients()}), and the optimizer updates them by
 * name.
 *
 * <p>Architecture (notation: B batch, C channels, p patch size, N = (imageSize/p)^2 patch tokens, T
 * = N + 1 tokens with CLS, D embedding dimension, H heads, h = D / H head dimension):
 *
 * <ul>
 *   <li>patch embedding: a p x p convolution with stride p and bias, computed as a matrix product
 *       of the flattened patches with {@code patch_embed.proj.weight} reshaped to {@code [D, C p
 *       p]};
 *   <li>masked patches: their embedding is replaced by {@code mask_token};
 *   <li>{@code cls_token} prepended; <b>no absolute position embedding</b>: like BEiT v2
 *       pretraining, positions enter only through relative position biases (one table per block
 *       and/or one shared by all blocks);
 *   <li>pre-norm blocks, LayerNorm eps 1e-6: {@code x += drop_path(gamma_1 * attn(norm1(x)))},
 *       {@code x += drop_path(gamma_2 * mlp(norm2(x)))}; attention with q and v biases and a k bias
 *       fixed at zero, scale {@code h^-0.5}; MLP {@code fc2(GELU(fc1(x)))} with the exact (erf)
 *       GELU; no dropout;
 *   <li>final {@code norm}, then {@code lm_head} on every patch token (pretraining); or, in a
 *       classifier ({@link VitConfig#classifierLayout()}), no mask token and no final norm: mean
 *       pooling of the patch tokens, {@code fc_norm} and {@code head}, as BEiT's fine-tuning model
 *       and timm's {@code Beit(global_pool='avg')}, whose {@code norm} is an identity then. A
 *       classifier checkpoint therefore loads into timm's {@code Beit(global_pool='avg')} with
 *       {@code strict=True}.
 * </ul>
 *
 * <p>Memory: activations are created on the manager of the input images; intermediate arrays of
 * every block are closed as soon as the block is done (the autograd graph keeps what backward
 * needs), so a forward pass without gradients holds only a few activations at a time. Nothing is
 * ever attached to the parameters' manager during a forward pass.
 *
 * <p>Not thread-safe for concurrent forward passes that share a manager. Closing the model closes
 * its parameters.
 */
public final class VisionTransformer implements AutoCloseable {
  /** LayerNorm epsilon of every norm (BEiT, timm). */
  public static final float LAYER_NORM_EPS = 1e-6f;

  /** Standard deviation of the truncated normal initialisation (BEiT {@code init_std}). */
  public static final double INIT_STD = 0.02;

  /** Factor applied to the initial classifier head (timm's {@code head_init_scale}). */
  public static final double HEAD_INIT_SCALE = 0.001;

  /** Absolute bounds of timm's {@code trunc_normal_(std=.02)} (a = -2, b = 2), for the head. */
  static final double TIMM_TRUNC_BOUND = 2.0;

  static final String CLS_TOKEN = "cls_token";
  static final String MASK_TOKEN = "mask_token";
  static final String PATCH_WEIGHT = "patch_embed.proj.weight";
  static final String PATCH_BIAS = "patch_embed.proj.bias";
  static final String SHARED_TABLE = "rel_pos_bias.relative_position_bias_table";
  static final String NORM_WEIGHT = "norm.weight";
  static final String NORM_BIAS = "norm.bias";
  static final String LM_HEAD_WEIGHT = "lm_head.weight";
  static final String LM_HEAD_BIAS = "lm_head.bias";
  static final String FC_NORM_WEIGHT = "fc_norm.weight";
  static final String FC_NORM_BIAS = "fc_norm.bias";
  static final String HEAD_WEIGHT = "head.weight";
  static final String HEAD_BIAS = "head.bias";

  private final VitConfig config;
  private final Parameters params;
  private final NDManager cacheManager;
  private final BlockNames[] blocks;
  private final double[] dropPathRates;

  /**
   * {@code [H, T*T]} int64: entry (head, q*T + k) is the flat position of row index(q, k), column
   * head in a {@code [tableSize, H]} bias table; null without relative position bias.
   */
  private final NDArray biasIndex;

  private VisionTransformer(VitConfig config, Parameters params) {
    this.config = config;
    this.params = params;
    this.blocks = new BlockNames[config.depth()];
    for (int i = 0; i < blocks.length; i++) {
      blocks[i] = new BlockNames(i);
    }
    this.dropPathRates = dropPathRates(config);
    this.cacheManager = params.manager().newSubManager();
    if (config.relPosBias() || config.sharedRelPosBias()) {
      int g = config.gridSize();
      int heads = config.numHeads();
      int[] index = RelativePositionIndex.compute(g, g);
      long[] flat = new long[heads * index.length];
      for (int h = 0; h < heads; h++) {
        int base = h * index.length;
        for (int j = 0; j < index.length; j++) {
          flat[base + j] = (long) index[j] * heads + h;
        }
      }
      this.biasIndex = Tensors.fromHost(cacheManager, flat, new Shape(heads, index.length));
      NDScope.unregister(biasIndex);
    } else {
      this.biasIndex = null;
    }
  }

  /**
   * Creates a model with freshly initialised parameters, BEiT v2 style.
   *
   * <p>Linear and patch-embedding weights, {@code cls_token}, {@code mask_token} and {@code
   * lm_head.weight}: normal with std 0.02 truncated to [-0.02, 0.02] (BEiT's {@code trunc_normal_}
   * with {@code a=-std, b=std}); biases, q/v biases and relative position tables: 0; LayerNorm
   * weights 1, biases 0; then {@code blocks.i.attn.proj.weight} and {@code blocks.i.mlp.fc2.weight}
   * divided by {@code sqrt(2 (i+1))} (BEiT {@code fix_init_weight}); layer scale gammas {@code
   * layerScaleInit}; {@code head.weight} as timm's {@code Beit}: normal with std 0.02 truncated to
   * the absolute bounds [-2, 2] ({@code trunc_normal_(std=.02)}), times 0.001; {@code head.bias} 0;
   * {@code fc_norm} weight 1, bias 0.
   *
   * <p>Values are generated in Java from {@code new SplittableRandom(seed)} (one {@code split()}
   * per random tensor, in the order of {@link #parameterShapes}, heads last), so the same seed
   * gives bit-identical parameters on every machine, and adding or removing a head leaves the
   * encoder's initial values unchanged.
   *
   * @param manager parent of the parameters' own manager; parameters live on its device
   */
  public static VisionTransformer initialize(VitConfig config, NDManager manager, long seed) {
    Parameters params = Parameters.create(manager);
    try {
      SplittableRandom rng = new SplittableRandom(seed);
      for (ParameterSpec spec : specs(config)) {
        if (spec.init() == Init.SKIP) {
          rng.split();
          continue;
        }
        float[] values = new float[Math.toIntExact(spec.shape().size())];
        switch (spec.init()) {
          case SKIP -> throw new AssertionError("skipped above");
          case TRUNC_NORMAL -> fillTruncNormal(values, rng.split(), INIT_STD * spec.scale());
          case TIMM_HEAD -> fillTimmHead(values, rng.split(), spec.scale());
          case CONSTANT -> Arrays.fill(values, (float) spec.scale());
          case ZEROS -> {}
        }
        params.put(spec.name(), Tensors.fromHost(params.manager(), values, spec.shape()));
      }
      return new VisionTransformer(config, params);
    } catch (RuntimeException e) {
      params.close();
      throw e;
    }
  }

  /**
   * Wraps existing parameters, which this model then owns (closing the model closes them).
   *
   * @throws IllegalArgumentException naming every missing, unexpected or wrong-shape parameter when
   *     {@code params} are not exactly those of {@link #parameterShapes}{@code (config)}; a head
   *     must be present exactly when the config has it
   */
  public static VisionTransformer fromParameters(VitConfig config, Parameters params) {
    Map<String, Shape> expected = parameterShapes(config);
    List<String> missing = new ArrayList<>();
    List<String> wrongShape = new ArrayList<>();
    for (Map.Entry<String, Shape> e : expected.entrySet()) {
      if (!params.contains(e.getKey())) {
        missing.add(e.getKey());
      } else {
        Shape actual = params.get(e.getKey()).getShape();
        if (!actual.equals(e.getValue())) {
          wrongShape.add(e.getKey() + ": expected " + e.getValue() + ", got " + actual);
        }
      }
    }
    List<String> unexpected = new ArrayList<>();
    for (String name : params.names()) {
      if (!expected.containsKey(name)) {
        unexpected.add(name);
      }
    }
    if (!missing.isEmpty() || !unexpected.isEmpty() || !wrongShape.isEmpty()) {
      throw new IllegalArgumentException(
          "Parameters do not fit model config '"
              + config.name()
              + "': missing "
              + missing
              + "; unexpected "
              + unexpected
              + "; wrong shape "
              + wrongShape);
    }
    return new VisionTransformer(config, params);
  }

  /**
   * Name and shape of every parameter a model of {@code config} has, in definition order.
   *
   * <pre>
   * cls_token                                  [1, 1, D]
   * mask_token                                 [1, 1, D]      (unless a classifier, see below)
   * patch_embed.proj.weight                    [D, C, p, p]
   * patch_embed.proj.bias                      [D]
   * rel_pos_bias.relative_position_bias_table  [S, H]   (shared; S = (2g-1)^2 + 3, g = grid size)
   * blocks.{i}.gamma_1, blocks.{i}.gamma_2     [D]      (when layerScaleInit > 0)
   * blocks.{i}.norm1.weight / .bias            [D]
   * blocks.{i}.attn.q_bias, .v_bias            [D]
   * blocks.{i}.attn.relative_position_bias_table [S, H] (when relPosBias)
   * blocks.{i}.attn.qkv.weight                 [3D, D]
   * blocks.{i}.attn.proj.weight / .bias        [D, D] / [D]
   * blocks.{i}.norm2.weight / .bias            [D]
   * blocks.{i}.mlp.fc1.weight / .bias          [M, D] / [M]
   * blocks.{i}.mlp.fc2.weight / .bias          [D, M] / [D]
   * norm.weight / .bias                        [D]            (unless a classifier)
   * lm_head.weight / .bias                     [P, D] / [P]   (when tokenHeadDim P > 0)
   * fc_norm.weight / .bias                     [D]            (when numClasses K > 0)
   * head.weight / .bias                        [K, D] / [K]   (when numClasses K > 0)
   * </pre>
   *
   * A classifier ({@link VitConfig#classifierLayout()}: numClasses > 0, tokenHeadDim 0) has no
   * {@code mask_token} and no {@code norm}: exactly the state dict of timm's {@code
   * Beit(global_pool='avg', use_abs_pos_emb=False, use_rel_pos_bias=True)}.
   */
  public static Map<String, Shape> parameterShapes(VitConfig config) {
    LinkedHashMap<String, Shape> shapes = new LinkedHashMap<>();
    for (ParameterSpec spec : specs(config)) {
      if (spec.init() != Init.SKIP) {
        shapes.put(spec.name(), spec.shape());
      }
    }
    return Collections.unmodifiableMap(shapes);
  }

  private enum Init {
    /** Not a parameter of this config; its random stream is still split off. */
    SKIP,
    TRUNC_NORMAL,
    TIMM_HEAD,
    CONSTANT,
    ZEROS
  }

  /** scale: the std multiplier of TRUNC_NORMAL, the value of CONSTANT. */
  private record ParameterSpec(String name, Shape shape, Init init, double scale) {}

  private static List<ParameterSpec> specs(VitConfig c) {
    long d = c.embedDim();
    long m = c.mlpDim();
    int g = c.gridSize();
    Shape vector = new Shape(d);
    Shape table = new Shape(RelativePositionIndex.tableSize(g, g), c.numHeads());
    List<ParameterSpec> s = new ArrayList<>();
    s.add(new ParameterSpec(CLS_TOKEN, new Shape(1, 1, d), Init.TRUNC_NORMAL, 1));
    // A classifier (BEiT's fine-tuning model) has no mask token; the draw keeps its place so that
    // the other tensors' initial values do not depend on the heads.
    s.add(
        new ParameterSpec(
            MASK_TOKEN,
            new Shape(1, 1, d),
            c.classifierLayout() ? Init.SKIP : Init.TRUNC_NORMAL,
            1));
    s.add(
        new ParameterSpec(
            PATCH_WEIGHT,
            new Shape(d, c.inChannels(), c.patchSize(), c.patchSize()),
            Init.TRUNC_NORMAL,
            1));
    s.add(new ParameterSpec(PATCH_BIAS, vector, Init.ZEROS, 0));
    if (c.sharedRelPosBias()) {
      s.add(new ParameterSpec(SHARED_TABLE, table, Init.ZEROS, 0));
    }
    for (int i = 0; i < c.depth(); i++) {
      BlockNames b = new BlockNames(i);
      double rescale = 1 / Math.sqrt(2.0 * (i + 1));
      if (c.layerScaleInit() > 0) {
        s.add(new ParameterSpec(b.gamma1, vector, Init.CONSTANT, c.layerScaleInit()));
        s.add(new ParameterSpec(b.gamma2, vector, Init.CONSTANT, c.layerScaleInit()));
      }
      s.add(new ParameterSpec(b.norm1Weight, vector, Init.CONSTANT, 1));
      s.add(new ParameterSpec(b.norm1Bias, vector, Init.ZEROS, 0));
      s.add(new ParameterSpec(b.qBias, vector, Init.ZEROS, 0));
      s.add(new ParameterSpec(b.vBias, vector, Init.ZEROS, 0));
      if (c.relPosBias()) {
        s.add(new ParameterSpec(b.table, table, Init.ZEROS, 0));
      }
      s.add(new ParameterSpec(b.qkvWeight, new Shape(3 * d, d), Init.TRUNC_NORMAL, 1));
      s.add(new ParameterSpec(b.projWeight, new Shape(d, d), Init.TRUNC_NORMAL, rescale));
      s.add(new ParameterSpec(b.projBias, vector, Init.ZEROS, 0));
      s.add(new ParameterSpec(b.norm2Weight, vector, Init.CONSTANT, 1));
      s.add(new ParameterSpec(b.norm2Bias, vector, Init.ZEROS, 0));
      s.add(new ParameterSpec(b.fc1Weight, new Shape(m, d), Init.TRUNC_NORMAL, 1));
      s.add(new ParameterSpec(b.fc1Bias, new Shape(m), Init.ZEROS, 0));
      s.add(new ParameterSpec(b.fc2Weight, new Shape(d, m), Init.TRUNC_NORMAL, rescale));
      s.add(new ParameterSpec(b.fc2Bias, vector, Init.ZEROS, 0));
    }
    if (!c.classifierLayout()) {
      s.add(new ParameterSpec(NORM_WEIGHT, vector, Init.CONSTANT, 1));
      s.add(new ParameterSpec(NORM_BIAS, vector, Init.ZEROS, 0));
    }
    if (c.tokenHeadDim() > 0) {
      long p = c.tokenHeadDim();
      s.add(new ParameterSpec(LM_HEAD_WEIGHT, new Shape(p, d), Init.TRUNC_NORMAL, 1));
      s.add(new ParameterSpec(LM_HEAD_BIAS, new Shape(p), Init.ZEROS, 0));
    }
    if (c.numClasses() > 0) {
      long k = c.numClasses();
      s.add(new ParameterSpec(FC_NORM_WEIGHT, vector, Init.CONSTANT, 1));
      s.add(new ParameterSpec(FC_NORM_BIAS, vector, Init.ZEROS, 0));
      s.add(new ParameterSpec(HEAD_WEIGHT, new Shape(k, d), Init.TIMM_HEAD, HEAD_INIT_SCALE));
      s.add(new ParameterSpec(HEAD_BIAS, new Shape(k), Init.ZEROS, 0));
    }
    return s;
  }

  /**
   * Fills {@code out} with normal samples of standard deviation {@code std} truncated to {@code
   * [-std, std]}: rejection sampling on pairs from Marsaglia's polar method, computed with {@link
   * StrictMath} so that the values do not depend on the platform.
   */
  static void fillTruncNormal(float[] out, SplittableRandom rng, double std) {
    int i = 0;
    while (i < out.length) {
      double u = 2 * rng.nextDouble() - 1;
      double v = 2 * rng.nextDouble() - 1;
      double s = u * u + v * v;
      if (s >= 1 || s == 0) {
        continue;
      }
      double factor = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
      double z0 = u * factor;
      double z1 = v * factor;
      if (Math.abs(z0) <= 1) {
        out[i++] = (float) (z0 * std);
      }
      if (i < out.length && Math.abs(z1) <= 1) {
        out[i++] = (float) (z1 * std);
      }
    }
  }

  /**
   * Fills {@code out} as timm initialises a classifier head: {@code trunc_normal_(std=0.02)}, whose
   * bounds are the absolute values [-2, 2] (100 standard deviations, so in effect a plain normal),
   * then multiplied by {@code scale}. Polar method with {@link StrictMath}, like {@link
   * #fillTruncNormal}.
   */
  static void fillTimmHead(float[] out, SplittableRandom rng, double scale) {
    int i = 0;
    while (i < out.length) {
      double u = 2 * rng.nextDouble() - 1;
      double v = 2 * rng.nextDouble() - 1;
      double s = u * u + v * v;
      if (s >= 1 || s == 0) {
        continue;
      }
      double factor = StrictMath.sqrt(-2 * StrictMath.log(s) / s);
      double z0 = u * factor * INIT_STD;
      double z1 = v * factor * INIT_STD;
      if (Math.abs(z0) <= TIMM_TRUNC_BOUND) {
        out[i++] = (float) (z0 * scale);
      }
      if (i < out.length && Math.abs(z1) <= TIMM_TRUNC_BOUND) {
        out[i++] = (float) (z1 * scale);
      }
    }
  }

  /**
   * Drop path rate of every block: {@code linspace(0, dropPath, depth)} as timm and BEiT.
   *
   * @return {@code [depth]} rates, the first 0, the last {@code config.dropPath()}
   */
  static double[] dropPathRates(VitConfig config) {
    int depth = config.depth();
    double[] rates = new double[depth];
    for (int i = 1; i < depth; i++) {
      rates[i] = config.dropPath() * i / (depth - 1);
    }
    return rates;
  }

  /** The configuration this model was built for. */
  public VitConfig config() {
    return config;
  }

  /** The model's named parameters (live: updating them updates the model). */
  public Parameters parameters() {
    return params;
  }

  /**
   * Encodes images into normalised tokens, CLS first.
   *
   * <p>Drop path (training only, when {@code config.dropPath() > 0}): block i drops each residual
   * branch per sample with probability {@code dropPathRates[i]} and scales kept branches by {@code
   * 1 / (1 - rate)}; the keep decisions are drawn from {@code dropPathRng} in Java, B per branch
   * with a positive rate (attention branch before MLP branch, block by block), so a seeded
   * generator reproduces them exactly.
   *
   * @param images {@code [B, C, imageSize, imageSize]} float, already normalised
   * @param mask {@code [B, N]} float (0 or 1) or boolean, 1 = masked patch (its embedding becomes
   *     {@code mask_token}); null for no masking. Patch n is at row {@code n / gridSize}, column
   *     {@code n % gridSize}
   * @param training whether drop path is active
   * @param dropPathRng source of the drop path decisions; required when training with drop path,
   *     otherwise unused and may be null
   * @return {@code [B, N + 1, D]} on the manager of {@code images}: after the final {@code norm},
   *     or, in a classifier ({@link VitConfig#classifierLayout()}, which has {@code fc_norm}
   *     instead), the last block's output
   */
  public NDArray forwardFeatures(
      NDArray images, NDArray mask, boolean training, SplittableRandom dropPathRng) {
    checkImages(images);
    long batch = images.getShape().get(0);
    if (mask != null && config.classifierLayout()) {
      throw new IllegalArgumentException(
          "Model '" + config.name() + "' is a classifier without a mask token; it cannot mask");
    }
    if (mask != null && !mask.getShape().equals(new Shape(batch, config.numPatches()))) {
      throw new IllegalArgumentException(
          "Mask must have shape [B, N] = "
              + new Shape(batch, config.numPatches())
              + ", cannot be: "
              + mask.getShape());
    }
    boolean dropPath = training && config.dropPath() > 0;
    if (dropPath && dropPathRng == null) {
      throw new IllegalArgumentException(
          "A drop path generator is required when training with dropPath " + config.dropPath());
    }
    NDManager out = images.getManager();
    try (NDManager scope = out.newSubManager()) {
      scope.tempAttachAll(mask == null ? new NDArray[] {images} : new NDArray[] {images, mask});
      NDArray x = embed(images, mask);
      NDArray shared = config.sharedRelPosBias() ? gatherBias(scope, SHARED_TABLE) : null;
      for (int i = 0; i < blocks.length; i++) {
        try (NDManager blockScope = scope.newSubManager()) {
          x.attach(blockScope);
          SplittableRandom rng = dropPath && dropPathRates[i] > 0 ? dropPathRng : null;
          x = block(blockScope, x, blocks[i], shared, dropPathRates[i], rng);
          x.attach(scope);
        }
      }
      NDArray features = config.classifierLayout() ? x : layerNorm(x, NORM_WEIGHT, NORM_BIAS);
      features.attach(out);
      return features;
    }
  }

  /**
   * Tokens after the model's final normalisation, for uses of the encoder's tokens themselves
   * (teacher targets, frozen features): {@code features} as they are when the model has a final
   * {@code norm}; in a classifier ({@link VitConfig#classifierLayout()}), whose only final
   * normalisation is {@code fc_norm}, {@code fc_norm} applied to every token.
   *
   * @param features {@code [B, N + 1, D]} from {@link #forwardFeatures}
   * @return {@code [B, N + 1, D]} on the manager of {@code features}
   */
  public NDArray normalizedTokens(NDArray features) {
    checkFeatures(features);
    return config.classifierLayout() ? layerNorm(features, FC_NORM_WEIGHT, FC_NORM_BIAS) : features;
  }

  /**
   * Patch tokens through the pretraining head.
   *
   * @param features {@code [B, N + 1, D]} from {@link #forwardFeatures}
   * @return {@code [B, N, P]} with P = {@code tokenHeadDim}, CLS dropped, on the manager of {@code
   *     features}
   */
  public NDArray predictTokens(NDArray features) {
    if (config.tokenHeadDim() == 0) {
      throw new IllegalStateException(
          "Model '" + config.name() + "' has no pretraining head (tokenHeadDim is 0)");
    }
    checkFeatures(features);
    NDArray patches = features.get(":, 1:, :");
    return linear(patches, LM_HEAD_WEIGHT, LM_HEAD_BIAS);
  }

  /**
   * Class logits from the mean of the patch tokens (CLS excluded), through {@code fc_norm} and
   * {@code head}.
   *
   * <p>In a classifier ({@link VitConfig#classifierLayout()}) the tokens have not been through a
   * final {@code norm}: {@code fc_norm} after pooling replaces it, as in BEiT's fine-tuning model
   * and timm's {@code Beit(global_pool='avg')}. A model with both heads pools normalised tokens.
   *
   * @param features {@code [B, N + 1, D]} from {@link #forwardFeatures}
   * @return {@code [B, K]} logits, on the manager of {@code features}
   */
  public NDArray classify(NDArray features) {
    if (config.numClasses() == 0) {
      throw new IllegalStateException(
          "Model '" + config.name() + "' has no classifier head (numClasses is 0)");
    }
    checkFeatures(features);
    NDArray pooled = features.get(":, 1:, :").mean(new int[] {1});
    NDArray normed = layerNorm(pooled, FC_NORM_WEIGHT, FC_NORM_BIAS);
    return linear(normed, HEAD_WEIGHT, HEAD_BIAS);
  }

  /**
   * Patch embedding, the exact equivalent of {@code Conv2d(C, D, kernel p, stride p)} flattened to
   * tokens.
   *
   * @param images {@code [B, C, H, W]}
   * @return {@code [B, N, D]}, token n from the patch at row {@code n / gridSize}, column {@code n
   *     % gridSize}, on the manager of {@code images}
   */
  NDArray patchEmbed(NDArray images) {
    long b = images.getShape().get(0);
    long c = config.inChannels();
    long p = config.patchSize();
    long g = config.gridSize();
    NDArray patches =
        images
            .reshape(b, c, g, p, g, p)
            .transpose(0, 2, 4, 1, 3, 5)
            .reshape(b, g * g, c * p * p); // [B, N, C p p], the only copy of the pixels
    NDArray weight = params.get(PATCH_WEIGHT);
    NDArray flatWeight =
        onto(images.getManager(), weight.reshape(config.embedDim(), c * p * p), weight);
    return Linear.linear(patches, flatWeight, params.get(PATCH_BIAS)).singletonOrThrow();
  }

  /**
   * Token embedding before the blocks: patch embeddings, masked ones replaced by {@code
   * mask_token}, with {@code cls_token} prepended.
   *
   * @param images {@code [B, C, H, W]}
   * @param mask {@code [B, N]}, 1 = masked, or null
   * @return {@code [B, N + 1, D]} on the manager of {@code images}
   */
  NDArray embed(NDArray images, NDArray mask) {
    NDManager m = images.getManager();
    NDArray x = patchEmbed(images); // [B, N, D]
    long b = x.getShape().get(0);
    if (mask != null) {
      NDArray w = mask.toType(x.getDataType(), false).expandDims(2); // [B, N, 1], a new array
      w.attach(m);
      NDArray keep = w.neg().addi(1); // 1 - w
      // x * (1 - w) + mask_token * w, as BEiT
      x = x.mul(keep).add(w.mul(params.get(MASK_TOKEN)));
    }
    NDArray cls = params.get(CLS_TOKEN);
    NDArray clsBatch = onto(m, cls.broadcast(b, 1, config.embedDim()), cls); // [B, 1, D]
    NDArray tokens = NDArrays.concat(new NDList(clsBatch, x), 1);
    tokens.attach(m);
    return tokens;
  }

  /** One pre-norm block; every new array goes to {@code m}, which also owns {@code x}. */
  private NDArray block(
      NDManager m,
      NDArray x,
      BlockNames names,
      NDArray sharedBias,
      double dropRate,
      SplittableRandom dropRng) {
    NDArray bias = sharedBias;
    if (config.relPosBias()) {
      NDArray own = gatherBias(m, names.table);
      bias = sharedBias == null ? own : own.addi(sharedBias);
    }
    NDArray branch = attention(m, layerNorm(x, names.norm1Weight, names.norm1Bias), names, bias);
    if (config.layerScaleInit() > 0) {
      branch = branch.mul(params.get(names.gamma1));
    }
    if (dropRng != null) {
      branch = dropPath(m, branch, dropRate, dropRng);
    }
    NDArray mid = x.add(branch);
    NDArray normed = layerNorm(mid, names.norm2Weight, names.norm2Bias);
    NDArray hidden = linear(normed, names.fc1Weight, names.fc1Bias); // [B, T, M]
    branch = linear(gelu(hidden), names.fc2Weight, names.fc2Bias);
    if (config.layerScaleInit() > 0) {
      branch = branch.mul(params.get(names.gamma2));
    }
    if (dropRng != null) {
      branch = dropPath(m, branch, dropRate, dropRng);
    }
    return mid.add(branch);
  }

  /**
   * Multi-head self-attention with q/v biases and a relative position bias.
   *
   * @param x {@code [B, T, D]}, owned by {@code m}
   * @param bias {@code [H, T, T]} added to the attention logits, or null
   * @return {@code [B, T, D]}
   */
  private NDArray attention(NDManager m, NDArray x, BlockNames names, NDArray bias) {
    Shape shape = x.getShape();
    long b = shape.get(0);
    long t = shape.get(1);
    long d = config.embedDim();
    long heads = config.numHeads();
    long hd = config.headDim();
    NDArray qBias = params.get(names.qBias);
    NDArray zeros = m.zeros(new Shape(d), qBias.getDataType());
    NDArray qkvBias = NDArrays.concat(new NDList(qBias, zeros, params.get(names.vBias)));
    qkvBias.attach(m); // [3D]
    NDArray qkv =
        Linear.linear(x, params.get(names.qkvWeight), qkvBias)
            .singletonOrThrow()
            .reshape(b, t, 3, heads, hd)
            .transpose(2, 0, 3, 1, 4); // [3, B, H, T, h]
    NDArray q = qkv.get(0).mul(Tensors.scalar(m, 1 / Math.sqrt(hd))); // [B, H, T, h]
    NDArray k = qkv.get(1);
    NDArray v = qkv.get(2);
    NDArray logits = q.matMul(k.transpose(0, 1, 3, 2)); // [B, H, T, T]
    if (bias != null) {
      logits = logits.addi(bias);
    }
    NDArray context = logits.softmax(-1).matMul(v); // [B, H, T, h]
    NDArray merged = context.transpose(0, 2, 1, 3).reshape(b, t, d); // [B, T, D]
    return linear(merged, names.projWeight, names.projBias);
  }

  /**
   * A relative position bias table gathered for every (query, key) pair, on the device.
   *
   * @return {@code [H, T, T]} on {@code m}
   */
  private NDArray gatherBias(NDManager m, String tableName) {
    long t = config.numPatches() + 1;
    return params.get(tableName).take(m, biasIndex).reshape(config.numHeads(), t, t);
  }

  /** {@code branch} with each sample kept (scaled by 1/keep) or zeroed. */
  private static NDArray dropPath(NDManager m, NDArray branch, double rate, SplittableRandom rng) {
    int b = Math.toIntExact(branch.getShape().get(0));
    double keep = 1 - rate;
    float[] scale = new float[b];
    for (int i = 0; i < b; i++) {
      scale[i] = rng.nextDouble() < keep ? (float) (1 / keep) : 0f;
    }
    return branch.mul(
        Tensors.fromHost(m, scale, new Shape(b, 1, 1)).toType(branch.getDataType(), false));
  }

  /** {@code x W^T + b}; x first so the result lands on x's manager. */
  private NDArray linear(NDArray x, String weight, String bias) {
    return Linear.linear(x, params.get(weight), params.get(bias)).singletonOrThrow();
  }

  /** LayerNorm over the last axis, eps 1e-6. */
  private NDArray layerNorm(NDArray x, String weight, String bias) {
    return LayerNorm.layerNorm(
            x, new Shape(config.embedDim()), params.get(weight), params.get(bias), LAYER_NORM_EPS)
        .singletonOrThrow();
  }

  /** The exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))} (PyTorch's default). */
  static NDArray gelu(NDArray x) {
    return Activation.gelu(x);
  }

  /** Moves {@code derived}, a fresh array computed from {@code parameter}, onto {@code m}. */
  private static NDArray onto(NDManager m, NDArray derived, NDArray parameter) {
    if (derived != parameter) {
      derived.attach(m);
    }
    return derived;
  }

  private void checkImages(NDArray images) {
    Shape s = images.getShape();
    int size = config.imageSize();
    if (s.dimension() != 4
        || s.get(1) != config.inChannels()
        || s.get(2) != size
        || s.get(3) != size) {
      throw new IllegalArgumentException(
          "Images must have shape [B, "
              + config.inChannels()
              + ", "
              + size
              + ", "
              + size
              + "], cannot be: "
              + s);
    }
    if (s.get(0) < 1) {
      throw new IllegalArgumentException("Batch size must be at least 1, cannot be: " + s.get(0));
    }
  }

  private void checkFeatures(NDArray features) {
    Shape s = features.getShape();
    if (s.dimension() != 3
        || s.get(1) != config.numPatches() + 1
        || s.get(2) != config.embedDim()) {
      throw new IllegalArgumentException(
          "Features must have shape [B, "
              + (config.numPatches() + 1)
              + ", "
              + config.embedDim()
              + "], cannot be: "
              + s);
    }
  }

  @Override
  public void close() {
    cacheManager.close();
    params.close();
  }

  /** The parameter names of block i, built once. */
  private static final class BlockNames {
    final String gamma1;
    final String gamma2;
    final String norm1Weight;
    final String norm1Bias;
    final String qBias;
    final String vBias;
    final String table;
    final String qkvWeight;
    final String projWeight;
    final String projBias;
    final String norm2Weight;
    final String norm2Bias;
    final String fc1Weight;
    final String fc1Bias;
    final String fc2Weight;
    final String fc2Bias;

    BlockNames(int i) {
      String p = "blocks." + i + ".";
      gamma1 = p + "gamma_1";
      gamma2 = p + "gamma_2";
      norm1Weight = p + "norm1.weight";
      norm1Bias = p + "norm1.bias";
      qBias = p + "attn.q_bias";
      vBias = p + "attn.v_bias";
      table = p + "attn.relative_position_bias_table";
      qkvWeight = p + "attn.qkv.weight";
      projWeight = p + "attn.proj.weight";
      projBias = p + "attn.proj.bias";
      norm2Weight = p + "norm2.weight";
      norm2Bias = p + "norm2.bias";
      fc1Weight = p + "mlp.fc1.weight";
      fc1Bias = p + "mlp.fc1.bias";
      fc2Weight = p + "mlp.fc2.weight";
      fc2Bias = p + "mlp.fc2.bias";
    }
  }
}

package org.dtmspark.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VisionTransformerTest {
  /** 12 x 12 images, 2 channels, 3 x 3 grid of 4-pixel patches, D 8, 2 heads, MLP 12. */
  private static final VitConfig SMALL_TEST =
      new VitConfig("ref", 12, 4, 2, 8, 2, 2, 12, 0.5, true, true, 5, 3, 0.0);

  private static float[] random(int n, long seed, double std) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * std);
    }
    return v;
  }

  private static NDArray images(NDManager m, VitConfig c, int batch, long seed) {
    Shape shape = new Shape(batch, c.inChannels(), c.imageSize(), c.imageSize());
    return m.create(random((int) shape.size(), seed, 1.0), shape);
  }

  /** Replaces every parameter by random values, norms and gammas around 1, the rest around 0. */
  private static void randomize(VisionTransformer model, long seed) {
    Parameters params = model.parameters();
    long s = seed;
    for (String name : params.names()) {
      NDArray old = params.get(name);
      float[] v = random((int) old.size(), s++, 0.3);
      if (name.contains("norm") && name.endsWith("weight") || name.contains("gamma")) {
        for (int i = 0; i < v.length; i++) {
          v[i] += 1;
        }
      }
      params.replace(name, params.manager().create(v, old.getShape()));
    }
  }

  private static void assertClose(float[] actual, double[] expected, double tolerance) {
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < actual.length; i++) {
      assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], within(tolerance));
    }
  }

  private static double[] flatten(double[][][] x) {
    int n = x.length * x[0].length * x[0][0].length;
    double[] out = new double[n];
    int k = 0;
    for (double[][] a : x) {
      for (double[] b : a) {
        for (double v : b) {
          out[k++] = v;
        }
      }
    }
    return out;
  }

  private static float maxAbsDiff(NDArray a, NDArray b) {
    return a.sub(b).abs().max().getFloat();
  }

  @Test
  void tinyModelHasTheDocumentedShapes() {
    VitConfig config = VitConfig.preset("tiny", 224, 16).withTokenHeadDim(512).withNumClasses(10);
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(config, m, 1)) {
      NDArray features = model.forwardFeatures(images(m, config, 2, 7), null, false, null);
      assertThat(features.getShape()).isEqualTo(new Shape(2, 197, 192));
      assertThat(model.predictTokens(features).getShape()).isEqualTo(new Shape(2, 196, 512));
      assertThat(model.classify(features).getShape()).isEqualTo(new Shape(2, 10));
      assertThat(model.parameters().names())
          .hasSize(VisionTransformer.parameterShapes(config).size())
          .contains("blocks.3.attn.relative_position_bias_table", "blocks.3.gamma_2");
      assertThat(model.parameters().get("rel_pos_bias.relative_position_bias_table").getShape())
          .isEqualTo(new Shape(27 * 27 + 3, 3));
    }
  }

  @Test
  void forwardMatchesThePlainJavaReference() {
    VitConfig[] configs = {
      SMALL_TEST,
      new VitConfig("no-ls-shared-only", 12, 4, 2, 8, 1, 2, 12, 0, false, true, 5, 3, 0),
      new VitConfig("per-block-only", 12, 4, 2, 8, 1, 4, 12, 0.3, true, false, 5, 3, 0),
      new VitConfig("no-bias", 8, 4, 3, 8, 1, 2, 6, 0.3, false, false, 5, 3, 0)
    };
    for (VitConfig config : configs) {
      try (NDManager m = NDManager.newBaseManager();
          VisionTransformer model = VisionTransformer.initialize(config, m, 3)) {
        randomize(model, 100);
        NDArray images = images(m, config, 2, 5);
        boolean[][] mask = new boolean[2][config.numPatches()];
        mask[0][1] = true;
        mask[1][0] = true;
        mask[1][config.numPatches() - 1] = true;
        NDArray maskArray = m.create(mask);
        NDArray features = model.forwardFeatures(images, maskArray, false, null);

        ReferenceVit reference = new ReferenceVit(config, model.parameters());
        double[][][] expected = reference.features(images.toFloatArray(), 2, mask);
        assertClose(features.toFloatArray(), flatten(expected), 1e-4);
        double[][][] tokens = {
          reference.predictTokens(expected[0]), reference.predictTokens(expected[1])
        };
        assertClose(model.predictTokens(features).toFloatArray(), flatten(tokens), 1e-4);
        double[][][] logits = {{reference.classify(expected[0]), reference.classify(expected[1])}};
        assertClose(model.classify(features).toFloatArray(), flatten(logits), 1e-4);
      }
    }
  }

  @Test
  void patchEmbeddingEqualsAStridedConvolution() {
    VitConfig config = SMALL_TEST;
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(config, m, 3)) {
      randomize(model, 9);
      NDArray images = images(m, config, 3, 11);
      NDArray embedded = model.patchEmbed(images);
      NDArray conv =
          Conv2d.conv2d(
                  images,
                  model.parameters().get("patch_embed.proj.weight"),
                  model.parameters().get("patch_embed.proj.bias"),
                  new Shape(4, 4))
              .singletonOrThrow(); // [B, D, 3, 3]
      NDArray expected = conv.reshape(3, 8, 9).transpose(0, 2, 1);
      assertThat(embedded.getShape()).isEqualTo(new Shape(3, 9, 8));
      assertThat(maxAbsDiff(embedded, expected)).isLessThan(1e-5f);
    }
  }

  @Test
  void maskedPatchesAreReplacedByTheMaskToken() {
    VitConfig config = SMALL_TEST;
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(config, m, 3)) {
      NDArray images = images(m, config, 2, 21);
      float[] mask = new float[2 * 9];
      mask[2] = 1; // image 0, patch 2
      mask[9 + 4] = 1; // image 1, patch 4
      mask[9 + 8] = 1; // image 1, patch 8
      NDArray tokens = model.embed(images, m.create(mask, new Shape(2, 9)));
      NDArray patches = model.patchEmbed(images);
      NDArray maskToken = model.parameters().get("mask_token").reshape(8);
      NDArray cls = model.parameters().get("cls_token").reshape(8);
      assertThat(tokens.getShape()).isEqualTo(new Shape(2, 10, 8));
      for (int b = 0; b < 2; b++) {
        assertThat(tokens.get(b, 0).toFloatArray()).containsExactly(cls.toFloatArray());
        for (int n = 0; n < 9; n++) {
          NDArray expected = mask[b * 9 + n] == 1 ? maskToken : patches.get(b, n);
          assertThat(tokens.get(b, n + 1).toFloatArray())
              .as("image %d patch %d", b, n)
              .containsExactly(expected.toFloatArray());
        }
      }
    }
  }

  @Test
  void pixelsOfMaskedPatchesDoNotReachTheOutput() {
    VitConfig config = SMALL_TEST;
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(config, m, 3)) {
      randomize(model, 4);
      boolean[][] maskValues = new boolean[1][9];
      maskValues[0][4] = true; // the centre patch: rows 4..7, columns 4..7
      NDArray mask = m.create(maskValues);
      NDArray images = images(m, config, 1, 31);
      NDArray centreChanged = images.duplicate();
      centreChanged.set(new NDIndex(":, :, 4:8, 4:8"), 5f);
      NDArray cornerChanged = images.duplicate();
      cornerChanged.set(new NDIndex(":, :, 0:4, 0:4"), 5f);

      NDArray base = model.forwardFeatures(images, mask, false, null);
      NDArray centre = model.forwardFeatures(centreChanged, mask, false, null);
      NDArray corner = model.forwardFeatures(cornerChanged, mask, false, null);
      NDArray floatMask = mask.toType(DataType.FLOAT32, true);
      NDArray sameWithFloatMask = model.forwardFeatures(images, floatMask, false, null);
      NDArray unmasked = model.forwardFeatures(images, null, false, null);

      assertThat(maxAbsDiff(base, centre)).isEqualTo(0f);
      assertThat(maxAbsDiff(base, corner)).isGreaterThan(1e-2f);
      assertThat(maxAbsDiff(base, sameWithFloatMask)).isEqualTo(0f);
      assertThat(maxAbsDiff(base, unmasked)).isGreaterThan(1e-2f);
    }
  }

  @Test
  void initialisationIsDeterministicPerSeed() {
    VitConfig config = SMALL_TEST;
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer a = VisionTransformer.initialize(config, m, 42);
        VisionTransformer b = VisionTransformer.initialize(config, m, 42);
        VisionTransformer c = VisionTransformer.initialize(config, m, 43)) {
      for (String name : a.parameters().names()) {
        assertThat(b.parameters().get(name).toFloatArray())
            .as(name)
            .containsExactly(a.parameters().get(name).toFloatArray());
      }
      for (String name : new String[] {"cls_token", "blocks.1.attn.qkv.weight", "head.weight"}) {
        assertThat(c.parameters().get(name).toFloatArray())
            .as(name)
            .isNotEqualTo(a.parameters().get(name).toFloatArray());
      }
    }
  }

  @Test
  void encoderInitialisationDoesNotDependOnTheHeads() {
    VitConfig withHeads = SMALL_TEST;
    VitConfig withoutHeads = SMALL_TEST.withTokenHeadDim(0).withNumClasses(0);
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer a = VisionTransformer.initialize(withHeads, m, 42);
        VisionTransformer b = VisionTransformer.initialize(withoutHeads, m, 42)) {
      assertThat(b.parameters().names()).doesNotContain("lm_head.weight", "head.weight");
      for (String name : b.parameters().names()) {
        assertThat(b.parameters().get(name).toFloatArray())
            .as(name)
            .containsExactly(a.parameters().get(name).toFloatArray());
      }
    }
  }

  @Test
  void initialisationFollowsBeitV2() {
    VitConfig config = new VitConfig("init", 32, 16, 3, 64, 3, 4, 256, 0.1, true, true, 32, 10, 0);
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(config, m, 5)) {
      Parameters p = model.parameters();
      float[] qkv = p.get("blocks.0.attn.qkv.weight").toFloatArray(); // 12288 values
      double mean = 0;
      double sq = 0;
      for (float v : qkv) {
        assertThat(v).isBetween(-0.02f, 0.02f);
        mean += v / qkv.length;
        sq += (double) v * v / qkv.length;
      }
      // Normal(0, 0.02) truncated at one std has std 0.02 * 0.53956.
      assertThat(Math.sqrt(sq - mean * mean)).isCloseTo(0.0107912, within(3e-4));
      assertThat(mean).isCloseTo(0, within(3e-4));
      for (int i = 0; i < 3; i++) {
        double bound = 0.02 / Math.sqrt(2.0 * (i + 1));
        for (String name : new String[] {"attn.proj.weight", "mlp.fc2.weight"}) {
          float max = p.get("blocks." + i + "." + name).abs().max().getFloat();
          assertThat((double) max).as("blocks.%d.%s", i, name).isBetween(0.95 * bound, bound);
        }
        assertThat(p.get("blocks." + i + ".gamma_1").toFloatArray()).containsOnly(0.1f);
        assertThat(p.get("blocks." + i + ".gamma_2").toFloatArray()).containsOnly(0.1f);
        assertThat(p.get("blocks." + i + ".norm1.weight").toFloatArray()).containsOnly(1f);
        for (String zero :
            new String[] {
              "attn.q_bias",
              "attn.v_bias",
              "attn.relative_position_bias_table",
              "attn.proj.bias",
              "mlp.fc1.bias",
              "norm2.bias"
            }) {
          assertThat(p.get("blocks." + i + "." + zero).toFloatArray()).as(zero).containsOnly(0f);
        }
      }
      assertThat(p.get("rel_pos_bias.relative_position_bias_table").toFloatArray())
          .containsOnly(0f);
      assertThat(p.get("patch_embed.proj.bias").toFloatArray()).containsOnly(0f);
      float patchMax = p.get("patch_embed.proj.weight").abs().max().getFloat();
      assertThat(patchMax).isBetween(0.019f, 0.02f);
      // timm's head: trunc_normal_(std=.02) bounded at +-2 in absolute terms (so not truncated at
      // one std), times 0.001: std 2e-5, and a tenth or more of 640 values beyond one std.
      float[] head = p.get("head.weight").toFloatArray();
      double headSq = 0;
      int beyondOneStd = 0;
      for (float v : head) {
        headSq += (double) v * v / head.length;
        beyondOneStd += Math.abs(v) > 2e-5 ? 1 : 0;
      }
      assertThat(Math.sqrt(headSq)).isCloseTo(2e-5, within(3e-6));
      assertThat(beyondOneStd).isGreaterThan(head.length / 10);
      assertThat(p.get("head.bias").toFloatArray()).containsOnly(0f);
      assertThat(p.get("lm_head.weight").abs().max().getFloat()).isBetween(0.019f, 0.02f);
      assertThat(p.get("fc_norm.weight").toFloatArray()).containsOnly(1f);
      assertThat(p.get("cls_token").abs().max().getFloat()).isBetween(0f, 0.02f);
    }
  }

  @Test
  void aClassifierIsBeitsFinetuningModelWithoutMaskTokenOrFinalNorm() {
    VitConfig classifier = SMALL_TEST.withTokenHeadDim(0);
    Map<String, Shape> shapes = VisionTransformer.parameterShapes(classifier);
    assertThat(shapes)
        .doesNotContainKeys("mask_token", "norm.weight", "norm.bias", "lm_head.weight")
        .containsKeys("cls_token", "fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias");
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(classifier, m, 3)) {
      randomize(model, 200);
      NDArray images = images(m, classifier, 2, 9);
      NDArray features = model.forwardFeatures(images, null, false, null);
      ReferenceVit reference = new ReferenceVit(classifier, model.parameters());
      double[][][] expected = reference.features(images.toFloatArray(), 2, null);
      // No final norm: the last block's output.
      assertClose(features.toFloatArray(), flatten(expected), 1e-4);
      double[][][] logits = {{reference.classify(expected[0]), reference.classify(expected[1])}};
      assertClose(model.classify(features).toFloatArray(), flatten(logits), 1e-4);
      assertThatThrownBy(() -> model.forwardFeatures(images, m.zeros(new Shape(2, 9)), false, null))
          .hasMessage("Model 'ref' is a classifier without a mask token; it cannot mask");
    }
  }

  @Test
  void normalizedTokensAreTheFeaturesOrFcNormPerTokenInAClassifier() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer pretrain =
            VisionTransformer.initialize(SMALL_TEST.withNumClasses(0), m, 3);
        VisionTransformer classifier =
            VisionTransformer.initialize(SMALL_TEST.withTokenHeadDim(0), m, 3)) {
      NDArray images = images(m, SMALL_TEST, 2, 4);
      NDArray features = pretrain.forwardFeatures(images, null, false, null);
      assertThat(pretrain.normalizedTokens(features)).isSameAs(features);

      randomize(classifier, 300);
      Parameters p = classifier.parameters();
      p.replace("fc_norm.weight", p.manager().ones(new Shape(8)));
      p.replace("fc_norm.bias", p.manager().zeros(new Shape(8)));
      NDArray raw = classifier.forwardFeatures(images, null, false, null);
      float[] tokens = classifier.normalizedTokens(raw).toFloatArray(); // [2, 10, 8]
      assertThat(tokens).hasSize(2 * 10 * 8);
      for (int t = 0; t < 20; t++) {
        double mean = 0;
        double sq = 0;
        for (int j = 0; j < 8; j++) {
          mean += tokens[t * 8 + j] / 8.0;
          sq += (double) tokens[t * 8 + j] * tokens[t * 8 + j] / 8.0;
        }
        assertThat(mean).as("token %d mean", t).isCloseTo(0, within(1e-5));
        assertThat(sq - mean * mean).as("token %d variance", t).isCloseTo(1, within(1e-3));
      }
    }
  }

  @Test
  void noLayerScaleMeansNoGammas() {
    VitConfig config = new VitConfig("nols", 8, 4, 3, 8, 2, 2, 8, 0, true, false, 0, 0, 0);
    Map<String, Shape> shapes = VisionTransformer.parameterShapes(config);
    assertThat(shapes.keySet()).noneMatch(n -> n.contains("gamma"));
    assertThat(shapes).doesNotContainKey("rel_pos_bias.relative_position_bias_table");
    assertThat(shapes)
        .containsEntry("blocks.1.attn.relative_position_bias_table", new Shape(12, 2));
  }

  private static Parameters copyOf(NDManager m, Parameters source) {
    Parameters copy = Parameters.create(m);
    for (Map.Entry<String, NDArray> e : source.asMap().entrySet()) {
      copy.put(e.getKey(), e.getValue().duplicate());
    }
    return copy;
  }

  @Test
  void fromParametersAcceptsExactlyTheConfiguredParameters() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 1);
        VisionTransformer loaded =
            VisionTransformer.fromParameters(SMALL_TEST, copyOf(m, model.parameters()))) {
      NDArray images = images(m, SMALL_TEST, 2, 3);
      NDArray expected = model.forwardFeatures(images, null, false, null);
      NDArray actual = loaded.forwardFeatures(images, null, false, null);
      assertThat(maxAbsDiff(actual, expected)).isEqualTo(0f);
    }
  }

  @Test
  void fromParametersNamesMissingUnexpectedAndWrongShapeParameters() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 1)) {
      try (Parameters missing = Parameters.create(m)) {
        for (String name : model.parameters().names()) {
          if (!name.equals("blocks.1.attn.q_bias")) {
            missing.put(name, model.parameters().get(name).duplicate());
          }
        }
        assertThatThrownBy(() -> VisionTransformer.fromParameters(SMALL_TEST, missing))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage(
                "Parameters do not fit model config 'ref': missing [blocks.1.attn.q_bias];"
                    + " unexpected []; wrong shape []");
      }
      try (Parameters extra = copyOf(m, model.parameters())) {
        extra.put("blocks.0.attn.k_bias", m.zeros(new Shape(8)));
        assertThatThrownBy(() -> VisionTransformer.fromParameters(SMALL_TEST, extra))
            .hasMessage(
                "Parameters do not fit model config 'ref': missing [];"
                    + " unexpected [blocks.0.attn.k_bias]; wrong shape []");
      }
      try (Parameters wrong = Parameters.create(m)) {
        for (String name : model.parameters().names()) {
          NDArray value = model.parameters().get(name);
          boolean broken = name.equals("cls_token");
          wrong.put(name, broken ? m.zeros(new Shape(1, 1, 9)) : value.duplicate());
        }
        assertThatThrownBy(() -> VisionTransformer.fromParameters(SMALL_TEST, wrong))
            .hasMessage(
                "Parameters do not fit model config 'ref': missing []; unexpected [];"
                    + " wrong shape [cls_token: expected (1, 1, 8), got (1, 1, 9)]");
      }
    }
  }

  @Test
  void headsMustBePresentExactlyWhenConfigured() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 1);
        Parameters params = copyOf(m, model.parameters())) {
      VitConfig noHeads = SMALL_TEST.withTokenHeadDim(0).withNumClasses(0);
      assertThatThrownBy(() -> VisionTransformer.fromParameters(noHeads, params))
          .hasMessage(
              "Parameters do not fit model config 'ref': missing [];"
                  + " unexpected [lm_head.weight, lm_head.bias, fc_norm.weight, fc_norm.bias,"
                  + " head.weight, head.bias]; wrong shape []");
      VitConfig biggerHead = SMALL_TEST.withTokenHeadDim(6);
      assertThatThrownBy(() -> VisionTransformer.fromParameters(biggerHead, params))
          .hasMessage(
              "Parameters do not fit model config 'ref': missing []; unexpected [];"
                  + " wrong shape [lm_head.weight: expected (6, 8), got (5, 8),"
                  + " lm_head.bias: expected (6), got (5)]");
    }
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer bare =
            VisionTransformer.initialize(SMALL_TEST.withTokenHeadDim(0).withNumClasses(0), m, 1);
        Parameters params = copyOf(m, bare.parameters())) {
      assertThatThrownBy(() -> VisionTransformer.fromParameters(SMALL_TEST, params))
          .hasMessage(
              "Parameters do not fit model config 'ref': missing [lm_head.weight, lm_head.bias,"
                  + " fc_norm.weight, fc_norm.bias, head.weight, head.bias]; unexpected [];"
                  + " wrong shape []");
    }
  }

  @Test
  void everyParameterReceivesAGradient() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 8)) {
      model.parameters().requireGradients();
      NDArray images = images(m, SMALL_TEST, 2, 13);
      float[] maskValues = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1};
      NDArray mask = m.create(maskValues, new Shape(2, 9));
      NDArray tokenWeights = m.create(random(2 * 9 * 5, 3, 1.0), new Shape(2, 9, 5));
      NDArray classWeights = m.create(random(2 * 3, 4, 1.0), new Shape(2, 3));
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray features = model.forwardFeatures(images, mask, true, new SplittableRandom(1));
        NDArray loss =
            model
                .predictTokens(features)
                .mul(tokenWeights)
                .sum()
                .add(model.classify(features).mul(classWeights).sum());
        gc.backward(loss);
      }
      Map<String, NDArray> grads = model.parameters().gradients();
      assertThat(grads.keySet()).containsExactlyElementsOf(model.parameters().names());
      for (Map.Entry<String, NDArray> e : grads.entrySet()) {
        Shape shape = model.parameters().get(e.getKey()).getShape();
        assertThat(e.getValue().getShape()).isEqualTo(shape);
        assertThat(e.getValue().abs().max().getFloat()).as(e.getKey()).isGreaterThan(0f);
      }
    }
  }

  @Test
  void maskTokenGetsNoGradientWithoutMaskedPatches() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 8)) {
      model.parameters().requireGradients();
      NDArray images = images(m, SMALL_TEST, 2, 13);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray features = model.forwardFeatures(images, m.zeros(new Shape(2, 9)), true, null);
        gc.backward(model.predictTokens(features).sum());
      }
      assertThat(model.parameters().get("mask_token").getGradient().abs().max().getFloat())
          .isEqualTo(0f);
      assertThat(model.parameters().get("cls_token").getGradient().abs().max().getFloat())
          .isGreaterThan(0f);
    }
  }

  @Test
  void dropPathRatesIncreaseLinearly() {
    assertThat(VisionTransformer.dropPathRates(SMALL_TEST.withDropPath(0.1)))
        .containsExactly(0, 0.1);
    VitConfig tiny = VitConfig.preset("tiny", 32, 16).withDropPath(0.3);
    assertThat(VisionTransformer.dropPathRates(tiny))
        .containsExactly(new double[] {0, 0.1, 0.2, 0.3}, within(1e-12));
  }

  @Test
  void dropPathIsIdentityOutsideTrainingAndReproducibleWithTheSameSeed() {
    VitConfig config = VitConfig.preset("tiny", 32, 16).withDropPath(0.5);
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(config, m, 2);
        VisionTransformer plain = VisionTransformer.initialize(config.withDropPath(0), m, 2)) {
      NDArray images = images(m, config, 8, 17);
      NDArray eval = model.forwardFeatures(images, null, false, null);
      NDArray reference = plain.forwardFeatures(images, null, true, null);
      NDArray train1 = model.forwardFeatures(images, null, true, new SplittableRandom(9));
      NDArray train2 = model.forwardFeatures(images, null, true, new SplittableRandom(9));
      NDArray train3 = model.forwardFeatures(images, null, true, new SplittableRandom(10));
      assertThat(maxAbsDiff(eval, reference)).isEqualTo(0f);
      assertThat(maxAbsDiff(train1, train2)).isEqualTo(0f);
      assertThat(maxAbsDiff(train1, eval)).isGreaterThan(1e-3f);
      assertThat(maxAbsDiff(train1, train3)).isGreaterThan(1e-3f);
      assertThatThrownBy(() -> model.forwardFeatures(images, null, true, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("A drop path generator is required when training with dropPath 0.5");
    }
  }

  /**
   * Depth 2 and drop path 0.5: block 1 draws B keep decisions for its attention branch, then B for
   * its MLP branch. A sample that loses both equals the model with block 1's gammas at 0; one that
   * keeps both equals the model with block 1's gammas doubled (scaled by 1 / keep).
   */
  @Test
  void dropPathDropsWholeResidualBranchesPerSample() {
    VitConfig config = new VitConfig("dp", 12, 4, 2, 8, 2, 2, 12, 0.5, true, true, 0, 0, 0.5);
    int batch = 8;
    SplittableRandom decisions = new SplittableRandom(77);
    boolean[] keepAttn = new boolean[batch];
    boolean[] keepMlp = new boolean[batch];
    for (int b = 0; b < batch; b++) {
      keepAttn[b] = decisions.nextDouble() < 0.5;
    }
    for (int b = 0; b < batch; b++) {
      keepMlp[b] = decisions.nextDouble() < 0.5;
    }
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(config, m, 2);
        VisionTransformer dropped = VisionTransformer.initialize(config, m, 2);
        VisionTransformer doubled = VisionTransformer.initialize(config, m, 2)) {
      randomize(model, 50);
      randomize(dropped, 50);
      randomize(doubled, 50);
      for (String g : new String[] {"blocks.1.gamma_1", "blocks.1.gamma_2"}) {
        NDArray gamma = model.parameters().get(g);
        dropped.parameters().replace(g, m.zeros(gamma.getShape()));
        doubled.parameters().replace(g, gamma.mul(2));
      }
      NDArray images = images(m, config, batch, 19);
      NDArray train = model.forwardFeatures(images, null, true, new SplittableRandom(77));
      NDArray none = dropped.forwardFeatures(images, null, false, null);
      NDArray both = doubled.forwardFeatures(images, null, false, null);
      int checkedDropped = 0;
      int checkedKept = 0;
      for (int b = 0; b < batch; b++) {
        if (!keepAttn[b] && !keepMlp[b]) {
          assertThat(maxAbsDiff(train.get(b), none.get(b))).as("sample %d", b).isLessThan(1e-5f);
          checkedDropped++;
        } else if (keepAttn[b] && keepMlp[b]) {
          assertThat(maxAbsDiff(train.get(b), both.get(b))).as("sample %d", b).isLessThan(1e-5f);
          checkedKept++;
        } else {
          assertThat(maxAbsDiff(train.get(b), none.get(b))).isGreaterThan(1e-3f);
          assertThat(maxAbsDiff(train.get(b), both.get(b))).isGreaterThan(1e-3f);
        }
      }
      assertThat(checkedDropped).isPositive();
      assertThat(checkedKept).isPositive();
    }
  }

  @Test
  void geluIsTheExactErfForm() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.linspace(-5f, 5f, 101);
      NDArray exact = x.mul(0.5).mul(x.div(Math.sqrt(2)).erf().add(1));
      NDArray tanhForm =
          x.mul(0.5).mul(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1));
      NDArray gelu = VisionTransformer.gelu(x);
      assertThat(maxAbsDiff(gelu, exact)).isLessThan(1e-6f);
      // The tanh approximation is measurably different, so the check above can tell them apart.
      assertThat(maxAbsDiff(gelu, tanhForm)).isGreaterThan(1e-4f);
      float[] values = gelu.toFloatArray();
      float[] xs = x.toFloatArray();
      for (int i = 0; i < xs.length; i++) {
        double expected = 0.5 * xs[i] * (1 + ReferenceVit.erf(xs[i] / Math.sqrt(2)));
        assertThat((double) values[i]).isCloseTo(expected, within(1e-6));
      }
    }
  }

  @Test
  void forwardLeavesOnlyItsResultBehind() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 8)) {
      NDArray images = images(m, SMALL_TEST, 2, 13);
      NDArray mask = m.create(new boolean[2][9]);
      NDManager paramsManager = model.parameters().manager();
      int paramArrays = paramsManager.getManagedArrays().size();
      int before = m.getManagedArrays().size();
      NDArray features = model.forwardFeatures(images, mask, false, null);
      assertThat(m.getManagedArrays().size()).isEqualTo(before + 1);
      assertThat(features.getManager()).isSameAs(m);
      assertThat(images.getManager()).isSameAs(m);
      assertThat(mask.getManager()).isSameAs(m);
      model.predictTokens(features);
      model.classify(features);
      assertThat(paramsManager.getManagedArrays().size()).isEqualTo(paramArrays);
    }
  }

  @Test
  void inputsOfTheWrongShapeAreRejected() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 8)) {
      assertThatThrownBy(
              () -> model.forwardFeatures(m.zeros(new Shape(1, 3, 12, 12)), null, false, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Images must have shape [B, 2, 12, 12], cannot be: (1, 3, 12, 12)");
      assertThatThrownBy(
              () ->
                  model.forwardFeatures(
                      m.zeros(new Shape(1, 2, 12, 12)), m.zeros(new Shape(1, 8)), false, null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Mask must have shape [B, N] = (1, 9), cannot be: (1, 8)");
      assertThatThrownBy(() -> model.predictTokens(m.zeros(new Shape(1, 9, 8))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Features must have shape [B, 10, 8], cannot be: (1, 9, 8)");
    }
  }

  @Test
  void missingHeadsAreReportedWhenUsed() {
    VitConfig bare = SMALL_TEST.withTokenHeadDim(0).withNumClasses(0);
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(bare, m, 8)) {
      NDArray features = m.zeros(new Shape(1, 10, 8));
      assertThatThrownBy(() -> model.predictTokens(features))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Model 'ref' has no pretraining head (tokenHeadDim is 0)");
      assertThatThrownBy(() -> model.classify(features))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Model 'ref' has no classifier head (numClasses is 0)");
    }
  }

  @Test
  void closingTheModelClosesItsParameters() {
    try (NDManager m = NDManager.newBaseManager()) {
      VisionTransformer model = VisionTransformer.initialize(SMALL_TEST, m, 8);
      NDManager paramsManager = model.parameters().manager();
      model.close();
      assertThat(paramsManager.isOpen()).isFalse();
    }
  }
}

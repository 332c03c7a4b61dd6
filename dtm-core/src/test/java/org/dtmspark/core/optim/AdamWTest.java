package org.dtmspark.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dtmspark.core.nn.Parameters;
import org.junit.jupiter.api.Test;

class AdamWTest {
  private static final AdamWConfig CONFIG = new AdamWConfig(0.9, 0.98, 1e-8, 0.1);
  private static final String QKV = "blocks.0.attn.qkv.weight";
  private static final String NORM = "blocks.0.norm1.weight";
  private static final String HEAD = "head.weight";
  private static final double[] LRS = {0.1, 0.05, 0.02};

  /** Initial values: a decayed 2x2 matrix, a 1-D norm weight, a decayed 1x3 head. */
  private static Parameters tinyParams(NDManager manager) {
    Parameters params = Parameters.create(manager);
    params.put(QKV, manager.create(new float[] {0.5f, -1.0f, 2.0f, 0.25f}, new Shape(2, 2)));
    params.put(NORM, manager.create(new float[] {1.0f, -0.5f}));
    params.put(HEAD, manager.create(new float[] {0.3f, 0.0f, -0.7f}, new Shape(1, 3)));
    return params;
  }

  /** Gradient of every parameter at step {@code s} (0-based), deterministic and varied. */
  private static float[] grad(String name, int s) {
    return switch (name) {
      case QKV -> new float[] {0.1f * (s + 1), -0.2f, 0.05f * (2 - s), 0.3f + 0.1f * s};
      case NORM -> new float[] {-0.4f + 0.3f * s, 0.01f};
      case HEAD -> new float[] {0.7f, -0.1f * s, 0.0f};
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static Map<String, NDArray> grads(NDManager manager, Parameters params, int s) {
    Map<String, NDArray> grads = new LinkedHashMap<>();
    for (String name : params.names()) {
      grads.put(name, manager.create(grad(name, s), params.get(name).getShape()));
    }
    return grads;
  }

  /** AdamW on plain doubles, one element at a time, for the expected values. */
  private static double[] reference(
      float[] initial, String name, int steps, boolean decay, double lrScale) {
    double[] p = new double[initial.length];
    double[] m = new double[initial.length];
    double[] v = new double[initial.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = initial[i];
    }
    for (int s = 0; s < steps; s++) {
      int t = s + 1;
      double lr = LRS[s] * lrScale;
      float[] g = grad(name, s);
      for (int i = 0; i < p.length; i++) {
        if (decay) {
          p[i] -= lr * CONFIG.weightDecay() * p[i];
        }
        m[i] = CONFIG.beta1() * m[i] + (1 - CONFIG.beta1()) * g[i];
        v[i] = CONFIG.beta2() * v[i] + (1 - CONFIG.beta2()) * g[i] * g[i];
        double mHat = m[i] / (1 - Math.pow(CONFIG.beta1(), t));
        double vHat = v[i] / (1 - Math.pow(CONFIG.beta2(), t));
        p[i] -= lr * mHat / (Math.sqrt(vHat) + CONFIG.eps());
      }
    }
    return p;
  }

  private static void assertCloseTo(float[] actual, double[] expected) {
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], within(1e-6));
    }
  }

  private static void run(
      AdamW optimizer,
      FlatParameters flat,
      Parameters params,
      NDManager manager,
      int from,
      int to) {
    for (int s = from; s < to; s++) {
      Map<String, NDArray> grads = grads(manager, params, s);
      try (NDArray g = flat.flatten(grads, manager)) {
        optimizer.step(g, LRS[s], 1.0);
      }
      grads.values().forEach(NDArray::close);
    }
  }

  @Test
  void threeStepsMatchHandComputedAdamWWithDecayExclusionAndLayerScale() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager)) {
      float[] qkv0 = params.get(QKV).toFloatArray();
      float[] norm0 = params.get(NORM).toFloatArray();
      float[] head0 = params.get(HEAD).toFloatArray();
      // depth 1, layer decay 0.5: block 0 parameters get lr x0.5, the head lr x1.
      ParameterGroups groups = ParameterGroups.of(params, 1, 0.5);
      assertThat(groups.group(QKV).lrScale()).isEqualTo(0.5);
      assertThat(groups.group(NORM).decay()).isFalse();

      try (FlatParameters flat = FlatParameters.of(params);
          AdamW optimizer = new AdamW(CONFIG, groups, flat)) {
        run(optimizer, flat, params, manager, 0, 3);
        assertThat(optimizer.stepCount()).isEqualTo(3);
      }

      assertCloseTo(params.get(QKV).toFloatArray(), reference(qkv0, QKV, 3, true, 0.5));
      assertCloseTo(params.get(NORM).toFloatArray(), reference(norm0, NORM, 3, false, 0.5));
      assertCloseTo(params.get(HEAD).toFloatArray(), reference(head0, HEAD, 3, true, 1.0));
    }
  }

  @Test
  void decayIsDecoupledFromTheGradientAndSkipsExcludedParameters() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager)) {
      float[] qkv0 = params.get(QKV).toFloatArray();
      float[] norm0 = params.get(NORM).toFloatArray();
      Map<String, NDArray> zeros = new HashMap<>();
      for (String name : params.names()) {
        zeros.put(name, params.get(name).zerosLike());
      }
      try (FlatParameters flat = FlatParameters.of(params);
          AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 0.5), flat);
          NDArray g = flat.flatten(zeros, manager)) {
        optimizer.step(g, 0.2, 1.0);
      }
      // Zero gradient: the Adam term is 0, only p * (1 - lr * lrScale * wd) remains.
      float[] qkv = params.get(QKV).toFloatArray();
      for (int i = 0; i < qkv.length; i++) {
        assertThat((double) qkv[i]).isCloseTo(qkv0[i] * (1 - 0.2 * 0.5 * 0.1), within(1e-7));
      }
      assertThat(params.get(NORM).toFloatArray()).containsExactly(norm0);
    }
  }

  @Test
  void updatesTheMasterInPlaceAndTheModelSeesItThroughItsViews() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = Parameters.create(manager)) {
      params.put(HEAD, manager.create(new float[] {1f, 2f, 3f}, new Shape(1, 3)));
      try (FlatParameters flat = FlatParameters.of(params)) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          flat.bindViews();
          gc.backward(params.get(HEAD).square().sum());
        }
        AdamWConfig noDecay = new AdamWConfig(0.9, 0.999, 1e-8, 0.0);
        try (AdamW optimizer = new AdamW(noDecay, ParameterGroups.of(params, 1, 1.0), flat);
            NDArray g = flat.gradient(manager)) {
          assertThat(g.toFloatArray()).containsExactly(2f, 4f, 6f);
          optimizer.step(g, 0.1, 1.0);
          // First Adam step moves each element by lr * sign(g) (up to eps): g = 2p > 0.
          float[] once = params.get(HEAD).toFloatArray();
          assertThat((double) once[0]).isCloseTo(0.9, within(1e-6));
          assertThat((double) once[2]).isCloseTo(2.9, within(1e-6));
          flat.zeroGradients();
          assertThat(g.toFloatArray()).containsOnly(0f);
        }
      }
    }
  }

  @Test
  void stateIsEmptyBeforeTheFirstStepAndHasBothMomentsAfter() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        FlatParameters flat = FlatParameters.of(params);
        AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), flat)) {
      assertThat(optimizer.stateTensors()).isEmpty();
      assertThat(optimizer.stateMetadata()).containsEntry("step", "0");
      run(optimizer, flat, params, manager, 0, 1);
      assertThat(optimizer.stateTensors().keySet())
          .containsExactly(
              "exp_avg." + QKV,
              "exp_avg_sq." + QKV,
              "exp_avg." + NORM,
              "exp_avg_sq." + NORM,
              "exp_avg." + HEAD,
              "exp_avg_sq." + HEAD);
      // After one step m = (1 - beta1) g.
      assertCloseTo(
          optimizer.stateTensors().get("exp_avg." + NORM).toFloatArray(),
          new double[] {0.1 * -0.4f, 0.1 * 0.01f});
      assertThat(optimizer.stateMetadata())
          .containsExactly(
              Map.entry("optimizer", "AdamW"),
              Map.entry("format_version", "1"),
              Map.entry("step", "1"),
              Map.entry("beta1", "0.9"),
              Map.entry("beta2", "0.98"),
              Map.entry("eps", "1.0E-8"),
              Map.entry("weight_decay", "0.1"));
    }
  }

  /** Copies arrays through host memory into another manager, as a save and a load would. */
  private static Map<String, NDArray> copyThroughHost(Map<String, NDArray> arrays, NDManager to) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
      out.put(e.getKey(), to.create(e.getValue().toFloatArray(), e.getValue().getShape()));
    }
    return out;
  }

  @Test
  void resumingFromSavedStateGivesBitwiseTheSameParametersAsAnUninterruptedRun() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters uninterrupted = tinyParams(manager);
        Parameters interrupted = tinyParams(manager)) {
      ParameterGroups groups = ParameterGroups.of(uninterrupted, 1, 0.5);
      try (FlatParameters flat = FlatParameters.of(uninterrupted);
          AdamW optimizer = new AdamW(CONFIG, groups, flat)) {
        run(optimizer, flat, uninterrupted, manager, 0, 3);
      }

      Map<String, NDArray> savedTensors;
      Map<String, String> savedMetadata;
      Map<String, NDArray> savedParams;
      try (NDManager files = manager.newSubManager()) {
        try (FlatParameters flat = FlatParameters.of(interrupted);
            AdamW first = new AdamW(CONFIG, groups, flat)) {
          run(first, flat, interrupted, manager, 0, 2);
          savedTensors = copyThroughHost(first.stateTensors(), files);
          savedMetadata = new HashMap<>(first.stateMetadata());
          savedParams = copyThroughHost(interrupted.asMap(), files);
        }
        try (Parameters restored = Parameters.create(manager)) {
          savedParams.forEach((name, array) -> restored.put(name, array.duplicate()));
          try (FlatParameters flat = FlatParameters.of(restored);
              AdamW resumed = new AdamW(CONFIG, groups, flat)) {
            resumed.loadState(savedTensors, savedMetadata);
            assertThat(resumed.stepCount()).isEqualTo(2);
            run(resumed, flat, restored, manager, 2, 3);
          }

          for (String name : groups.names()) {
            assertThat(restored.get(name).toFloatArray())
                .as(name)
                .containsExactly(uninterrupted.get(name).toFloatArray());
          }
        }
        // The optimizer copied the tensors: the caller's arrays are still usable.
        assertThat(savedTensors.get("exp_avg." + QKV).toFloatArray()).hasSize(4);
      }
    }
  }

  private static Map<String, String> metadataAtStep(String step) {
    Map<String, String> metadata = new HashMap<>();
    metadata.put("optimizer", "AdamW");
    metadata.put("format_version", "1");
    metadata.put("step", step);
    return metadata;
  }

  @Test
  void loadingStateWithAMissingMomentFailsNamingIt() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        FlatParameters flat = FlatParameters.of(params);
        AdamW source = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), flat);
        AdamW target = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), flat)) {
      run(source, flat, params, manager, 0, 1);
      Map<String, NDArray> tensors = new LinkedHashMap<>(source.stateTensors());
      tensors.remove("exp_avg_sq." + NORM);

      assertThatThrownBy(() -> target.loadState(tensors, source.stateMetadata()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Optimizer state is missing tensor exp_avg_sq.blocks.0.norm1.weight");
      assertThat(target.stepCount()).isZero();
      assertThat(target.stateTensors()).isEmpty();
    }
  }

  @Test
  void loadingStateOfAnUnknownVersionFailsNamingTheVersion() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        FlatParameters flat = FlatParameters.of(params);
        AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), flat)) {
      Map<String, String> metadata = metadataAtStep("0");
      metadata.put("format_version", "7");
      assertThatThrownBy(() -> optimizer.loadState(Map.of(), metadata))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Unsupported optimizer state format version: 7 (this code reads version 1)");
      metadata.remove("format_version");
      assertThatThrownBy(() -> optimizer.loadState(Map.of(), metadata))
          .hasMessage("Optimizer state metadata is missing key format_version");
      assertThatThrownBy(() -> optimizer.loadState(Map.of(), metadataAtStep("-3")))
          .hasMessage("Optimizer state metadata step must be an integer at least 0, cannot be: -3");
    }
  }

  @Test
  void loadingStateRejectsUnexpectedTensorsAndWrongShapes() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        FlatParameters flat = FlatParameters.of(params);
        AdamW source = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), flat);
        AdamW target = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), flat)) {
      run(source, flat, params, manager, 0, 1);
      Map<String, String> metadata = source.stateMetadata();

      Map<String, NDArray> extra = new LinkedHashMap<>(source.stateTensors());
      extra.put("exp_avg.blocks.9.mlp.fc1.weight", manager.zeros(new Shape(2)));
      assertThatThrownBy(() -> target.loadState(extra, metadata))
          .hasMessage(
              "Unexpected optimizer state tensor exp_avg.blocks.9.mlp.fc1.weight: no parameter"
                  + " named blocks.9.mlp.fc1.weight");

      Map<String, NDArray> odd = new LinkedHashMap<>(source.stateTensors());
      odd.put("momentum." + HEAD, manager.zeros(new Shape(1, 3)));
      assertThatThrownBy(() -> target.loadState(odd, metadata))
          .hasMessage(
              "Unexpected optimizer state tensor momentum.head.weight: keys must start with"
                  + " exp_avg. or exp_avg_sq.");

      Map<String, NDArray> reshaped = new LinkedHashMap<>(source.stateTensors());
      reshaped.put("exp_avg." + HEAD, manager.zeros(new Shape(3)));
      assertThatThrownBy(() -> target.loadState(reshaped, metadata))
          .hasMessage(
              "Optimizer state tensor exp_avg.head.weight has shape (3), parameter head.weight"
                  + " has shape (1, 3)");

      assertThatThrownBy(() -> target.loadState(source.stateTensors(), metadataAtStep("0")))
          .hasMessageStartingWith("Unexpected optimizer state tensor exp_avg.")
          .hasMessageEndingWith(": the state is at step 0");
    }
  }

  @Test
  void stepRejectsAGradientOfTheWrongSizeOrABadScaleBeforeChangingAnything() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        FlatParameters flat = FlatParameters.of(params);
        AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), flat)) {
      float[] qkv0 = params.get(QKV).toFloatArray();
      assertThatThrownBy(() -> optimizer.step(manager.zeros(new Shape(8)), 0.1, 1.0))
          .hasMessage("The gradient must be [9], cannot be: (8)");
      NDArray g = manager.zeros(new Shape(9));
      assertThatThrownBy(() -> optimizer.step(g, -0.1, 1.0))
          .hasMessage("Learning rate must be finite and at least 0, cannot be: -0.1");
      assertThatThrownBy(() -> optimizer.step(g, 0.1, Double.POSITIVE_INFINITY))
          .hasMessage("Gradient scale must be finite and above 0, cannot be: Infinity");
      assertThat(params.get(QKV).toFloatArray()).containsExactly(qkv0);
      assertThat(optimizer.stepCount()).isZero();
    }
  }

  @Test
  void groupsThatDisagreeWithTheParametersAreRejectedNamingTheParameter() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        Parameters other = Parameters.create(manager)) {
      other.put(QKV, manager.zeros(new Shape(4)));
      try (FlatParameters flat = FlatParameters.of(params)) {
        assertThatThrownBy(() -> new AdamW(CONFIG, ParameterGroups.of(other, 1, 1.0), flat))
            .hasMessage(
                "Parameter blocks.0.attn.qkv.weight has shape (2, 2), the parameter groups were"
                    + " set up for shape (4)");
      }
    }
  }

  @Test
  void matchesThePerParameterReferenceWithinFloatTolerance() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // A ViT-like set: matrices (decayed), 1-D weights and biases (not), a table, 3 layers.
      Map<String, Shape> shapes = new LinkedHashMap<>();
      shapes.put("cls_token", new Shape(1, 1, 8));
      shapes.put("patch_embed.proj.weight", new Shape(8, 3, 2, 2));
      shapes.put("blocks.0.attn.qkv.weight", new Shape(24, 8));
      shapes.put("blocks.0.norm1.bias", new Shape(8));
      shapes.put("blocks.1.mlp.fc1.weight", new Shape(16, 8));
      shapes.put("blocks.1.mlp.fc1.bias", new Shape(16));
      shapes.put("blocks.1.attn.relative_position_bias_table", new Shape(10, 2));
      shapes.put("head.weight", new Shape(5, 8));
      java.util.SplittableRandom rng = new java.util.SplittableRandom(11);
      Parameters flatParams = Parameters.create(manager);
      Parameters refParams = Parameters.create(manager);
      shapes.forEach(
          (name, shape) -> {
            float[] v = randoms(rng, (int) shape.size(), 1.0);
            flatParams.put(name, manager.create(v, shape));
            refParams.put(name, manager.create(v, shape));
          });
      ParameterGroups groups = ParameterGroups.of(flatParams, 2, 0.7);
      double gradScale = 0.37;
      try (FlatParameters flat = FlatParameters.of(flatParams);
          AdamW optimizer = new AdamW(CONFIG, groups, flat);
          ReferenceAdamW reference = new ReferenceAdamW(CONFIG, groups, manager)) {
        for (int s = 0; s < 6; s++) {
          Map<String, NDArray> raw = new LinkedHashMap<>();
          Map<String, NDArray> scaled = new LinkedHashMap<>();
          for (Map.Entry<String, Shape> e : shapes.entrySet()) {
            float[] g = randoms(rng, (int) e.getValue().size(), 1e-2 * (s + 1));
            raw.put(e.getKey(), manager.create(g, e.getValue()));
            scaled.put(e.getKey(), manager.create(g, e.getValue()).mul(gradScale));
          }
          try (NDArray g = flat.flatten(raw, manager)) {
            optimizer.step(g, 1e-2, gradScale);
          }
          reference.step(refParams, scaled, 1e-2);
        }
        for (String name : shapes.keySet()) {
          float[] actual = flatParams.get(name).toFloatArray();
          float[] expected = refParams.get(name).toFloatArray();
          for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i])
                .as("%s[%d]", name, i)
                .isCloseTo(expected[i], within(1e-6f + 1e-5f * Math.abs(expected[i])));
          }
        }
        Map<String, NDArray> state = optimizer.stateTensors();
        reference
            .stateTensors()
            .forEach(
                (key, value) -> {
                  float[] a = state.get(key).toFloatArray();
                  float[] b = value.toFloatArray();
                  for (int i = 0; i < a.length; i++) {
                    assertThat(a[i])
                        .as("%s[%d]", key, i)
                        .isCloseTo(b[i], within(1e-7f + 1e-5f * Math.abs(b[i])));
                  }
                });
      }
    }
  }

  private static float[] randoms(java.util.SplittableRandom rng, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
    }
    return v;
  }
}

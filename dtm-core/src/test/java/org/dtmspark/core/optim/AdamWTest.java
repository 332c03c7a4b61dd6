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

  private static void run(AdamW optimizer, Parameters params, NDManager manager, int from, int to) {
    for (int s = from; s < to; s++) {
      Map<String, NDArray> grads = grads(manager, params, s);
      optimizer.step(params, grads, LRS[s]);
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

      try (AdamW optimizer = new AdamW(CONFIG, groups, manager)) {
        run(optimizer, params, manager, 0, 3);
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
      try (AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 0.5), manager)) {
        optimizer.step(params, zeros, 0.2);
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
  @SuppressWarnings("try") // the second collector is only opened to turn recording on
  void updatesTrainableParametersInPlaceInsideAndOutsideAGradientCollector() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = Parameters.create(manager)) {
      params.put(HEAD, manager.create(new float[] {1f, 2f, 3f}, new Shape(1, 3)));
      params.requireGradients();
      NDArray head = params.get(HEAD);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(head.square().sum());
      }
      AdamWConfig noDecay = new AdamWConfig(0.9, 0.999, 1e-8, 0.0);
      try (AdamW optimizer = new AdamW(noDecay, ParameterGroups.of(params, 1, 1.0), manager)) {
        optimizer.step(params, params.gradients(), 0.1);
        // First Adam step moves each element by lr * sign(g) (up to eps): g = 2p > 0.
        assertThat(params.get(HEAD)).isSameAs(head);
        assertThat(head.hasGradient()).isTrue();
        float[] once = head.toFloatArray();
        assertThat((double) once[0]).isCloseTo(0.9, within(1e-6));
        assertThat((double) once[2]).isCloseTo(2.9, within(1e-6));

        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          optimizer.step(params, params.gradients(), 0.1);
        }
        assertThat((double) head.toFloatArray()[1]).isCloseTo(1.8, within(1e-6));
      }
    }
  }

  @Test
  void stateIsEmptyBeforeTheFirstStepAndHasBothMomentsAfter() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), manager)) {
      assertThat(optimizer.stateTensors()).isEmpty();
      assertThat(optimizer.stateMetadata()).containsEntry("step", "0");
      run(optimizer, params, manager, 0, 1);
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
      try (AdamW optimizer = new AdamW(CONFIG, groups, manager)) {
        run(optimizer, uninterrupted, manager, 0, 3);
      }

      Map<String, NDArray> savedTensors;
      Map<String, String> savedMetadata;
      Map<String, NDArray> savedParams;
      try (NDManager files = manager.newSubManager()) {
        try (AdamW first = new AdamW(CONFIG, groups, manager)) {
          run(first, interrupted, manager, 0, 2);
          savedTensors = copyThroughHost(first.stateTensors(), files);
          savedMetadata = new HashMap<>(first.stateMetadata());
          savedParams = copyThroughHost(interrupted.asMap(), files);
        }
        try (Parameters restored = Parameters.create(manager);
            AdamW resumed = new AdamW(CONFIG, groups, manager)) {
          savedParams.forEach((name, array) -> restored.put(name, array.duplicate()));
          resumed.loadState(savedTensors, savedMetadata);
          assertThat(resumed.stepCount()).isEqualTo(2);
          run(resumed, restored, manager, 2, 3);

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
        AdamW source = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), manager);
        AdamW target = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), manager)) {
      run(source, params, manager, 0, 1);
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
        AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), manager)) {
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
        AdamW source = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), manager);
        AdamW target = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), manager)) {
      run(source, params, manager, 0, 1);
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
  void stepRejectsMissingOrUnknownGradientsBeforeChangingAnything() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = tinyParams(manager);
        AdamW optimizer = new AdamW(CONFIG, ParameterGroups.of(params, 1, 1.0), manager)) {
      float[] qkv0 = params.get(QKV).toFloatArray();
      Map<String, NDArray> grads = new LinkedHashMap<>(grads(manager, params, 0));
      grads.remove(HEAD);
      assertThatThrownBy(() -> optimizer.step(params, grads, 0.1))
          .hasMessage("No gradient given for parameter head.weight");

      grads.put(HEAD, manager.zeros(new Shape(1, 3)));
      grads.put("lm_head.weight", manager.zeros(new Shape(1, 3)));
      assertThatThrownBy(() -> optimizer.step(params, grads, 0.1))
          .hasMessage("Gradient given for lm_head.weight, which this optimizer does not update");

      grads.remove("lm_head.weight");
      grads.put(HEAD, manager.zeros(new Shape(3)));
      assertThatThrownBy(() -> optimizer.step(params, grads, 0.1))
          .hasMessage("Gradient of head.weight has shape (3), parameter has shape (1, 3)");

      assertThatThrownBy(() -> optimizer.step(params, grads, -0.1))
          .hasMessage("Learning rate must be finite and at least 0, cannot be: -0.1");
      assertThat(params.get(QKV).toFloatArray()).containsExactly(qkv0);
      assertThat(optimizer.stepCount()).isZero();
    }
  }
}

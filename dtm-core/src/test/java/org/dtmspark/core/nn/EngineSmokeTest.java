package org.dtmspark.core.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class EngineSmokeTest {
  @Test
  void pytorchEngineRunsOfflineOnCpu() {
    assertThat(Engine.getInstance().getEngineName()).isEqualTo("PyTorch");
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new float[] {1, 2, 3});
      a.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray y = a.mul(a).sum();
        gc.backward(y);
      }
      assertThat(a.getGradient().toFloatArray()).containsExactly(2f, 4f, 6f);
      System.out.println("engine version " + Engine.getInstance().getVersion());
    }
  }
}

package org.dtmspark.core.precision;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class AutocastTest {
  @Test
  void spike() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      NDArray x = m.randomNormal(new Shape(4, 8));
      NDArray w = m.randomNormal(new Shape(16, 8));
      NDArray b = m.zeros(new Shape(16));
      NDArray g = m.ones(new Shape(16));
      w.setRequiresGradient(true);
      g.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray y;
        NDArray ln;
        NDArray sm;
        NDArray mm;
        try (Autocast a = Autocast.open(Device.cpu(), Precision.FP16)) {
          assertThat(Autocast.isEnabled(Device.cpu())).isTrue();
          y = Linear.linear(x, w, b).singletonOrThrow();
          mm = x.matMul(w.transpose());
          ln = LayerNorm.layerNorm(y, new Shape(16), g, b, 1e-6f).singletonOrThrow();
          sm = ln.softmax(-1);
        }
        assertThat(Autocast.isEnabled(Device.cpu())).isFalse();
        System.out.println(
            "linear "
                + y.getDataType()
                + " matmul "
                + mm.getDataType()
                + " layernorm "
                + ln.getDataType()
                + " softmax "
                + sm.getDataType());
        gc.backward(sm.mul(m.randomNormal(new Shape(4, 16))).sum());
      }
      System.out.println(
          "w grad " + w.getGradient().getDataType() + " g grad " + g.getGradient().getDataType());
      System.out.println(w.getGradient());
    }
  }
}

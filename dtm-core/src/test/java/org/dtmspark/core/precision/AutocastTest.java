package org.dtmspark.core.precision;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** libtorch's autocast through the JNI shim, on the CPU. */
class AutocastTest {
  @Test
  void linearRunsInHalfInsideTheRegionAndFloatOutsideAndTheRegionIsThreadState() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      NDArray x = m.randomNormal(new Shape(4, 8));
      NDArray w = m.randomNormal(new Shape(16, 8));
      NDArray b = m.zeros(new Shape(16));
      assertThat(Autocast.isEnabled(Device.cpu())).isFalse();
      try (Autocast a = Autocast.open(Device.cpu(), Precision.FP16)) {
        assertThat(Autocast.isEnabled(Device.cpu())).isTrue();
        assertThat(Linear.linear(x, w, b).singletonOrThrow().getDataType())
            .isEqualTo(DataType.FLOAT16);
        assertThat(x.matMul(w.transpose()).getDataType()).isEqualTo(DataType.FLOAT16);
        // Elementwise operations keep their inputs' type.
        assertThat(x.add(x).getDataType()).isEqualTo(DataType.FLOAT32);
        try (Autocast inner = Autocast.open(Device.cpu(), Precision.FP16)) {
          assertThat(x.matMul(w.transpose()).getDataType()).isEqualTo(DataType.FLOAT16);
        }
        // Closing a nested region leaves the outer one on.
        assertThat(Autocast.isEnabled(Device.cpu())).isTrue();
        assertThat(x.matMul(w.transpose()).getDataType()).isEqualTo(DataType.FLOAT16);
      }
      assertThat(Autocast.isEnabled(Device.cpu())).isFalse();
      assertThat(Linear.linear(x, w, b).singletonOrThrow().getDataType())
          .isEqualTo(DataType.FLOAT32);
    }
  }

  @Test
  void gradientsReachTheFloatLeavesAndMatchTheFloatComputationToHalfPrecision() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      NDArray x = m.randomNormal(new Shape(4, 8));
      NDArray w = m.randomNormal(new Shape(16, 8));
      NDArray b = m.zeros(new Shape(16));
      NDArray g = m.ones(new Shape(16));
      NDArray probe = m.randomNormal(new Shape(4, 16));
      w.setRequiresGradient(true);
      g.setRequiresGradient(true);
      float[][] grads = new float[2][];
      for (int run = 0; run < 2; run++) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray y;
          try (Autocast a = run == 0 ? Autocast.open(Device.cpu(), Precision.FP16) : null) {
            y = Linear.linear(x, w, b).singletonOrThrow();
          }
          // CPU autocast keeps layer norm and softmax in their input's type: promote first.
          NDArray y32 = y.add(m.zeros(new Shape(1)));
          NDArray ln = LayerNorm.layerNorm(y32, new Shape(16), g, b, 1e-6f).singletonOrThrow();
          assertThat(ln.getDataType()).isEqualTo(DataType.FLOAT32);
          gc.backward(ln.softmax(-1).mul(probe).sum());
        }
        assertThat(w.getGradient().getDataType()).isEqualTo(DataType.FLOAT32);
        assertThat(g.getGradient().getDataType()).isEqualTo(DataType.FLOAT32);
        grads[run] = w.getGradient().toFloatArray();
        w.getGradient().subi(w.getGradient());
      }
      float max = 0;
      for (float v : grads[1]) {
        max = Math.max(max, Math.abs(v));
      }
      for (int i = 0; i < grads[0].length; i++) {
        // fp16 rounds inputs and products to 11 significant bits: ~1e-3 relative error per value.
        assertThat(Math.abs(grads[0][i] - grads[1][i])).as("w.grad[%d]", i).isLessThan(1e-2f * max);
      }
    }
  }
}

package org.dtmspark.core.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;

/**
 * Manual throughput check of the student's training step (not a unit test).
 *
 * <p>Arguments: size (tiny/small/base/large), batch, steps. Prints milliseconds per inference
 * forward and per forward + backward with 75 of 196 patches masked and a 512-d token head.
 */
final class VitBenchmark {
  private VitBenchmark() {}

  public static void main(String[] args) {
    String size = args.length > 0 ? args[0] : "small";
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    VitConfig config = VitConfig.preset(size, 224, 16).withTokenHeadDim(512);
    try (NDManager root = NDManager.newBaseManager()) {
      long t0 = System.nanoTime();
      VisionTransformer model = VisionTransformer.initialize(config, root, 0);
      System.out.printf(
          "%s: %d parameters, initialised in %.0f ms on %s%n",
          size, model.parameters().numel(), (System.nanoTime() - t0) / 1e6, root.getDevice());
      SplittableRandom rng = new SplittableRandom(1);
      float[] pixels = new float[batch * 3 * 224 * 224];
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = (float) rng.nextGaussian();
      }
      float[] mask = new float[batch * 196];
      for (int b = 0; b < batch; b++) {
        for (int j = 0; j < 75; j++) {
          mask[b * 196 + rng.nextInt(196)] = 1;
        }
      }
      for (int step = 0; step < steps + 1; step++) {
        try (NDManager m = root.newSubManager()) {
          NDArray images = m.create(pixels, new Shape(batch, 3, 224, 224));
          long s = System.nanoTime();
          model.predictTokens(model.forwardFeatures(images, null, false, null)).toFloatArray();
          System.out.printf("step %d inference %.0f ms%n", step, (System.nanoTime() - s) / 1e6);
        }
      }
      model.parameters().requireGradients();
      for (int step = 0; step < steps + 1; step++) {
        try (NDManager m = root.newSubManager()) {
          NDArray images = m.create(pixels, new Shape(batch, 3, 224, 224));
          NDArray maskArray = m.create(mask, new Shape(batch, 196));
          long s = System.nanoTime();
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray features = model.forwardFeatures(images, maskArray, true, rng);
            NDArray loss = model.predictTokens(features).square().mean();
            long f = System.nanoTime();
            gc.backward(loss);
            model.parameters().get("cls_token").getGradient().toFloatArray();
            System.out.printf(
                "step %d train forward %.0f ms, backward %.0f ms%n",
                step, (f - s) / 1e6, (System.nanoTime() - f) / 1e6);
          }
        }
      }
      model.close();
    }
  }
}

package org.dtmspark.core.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.junit.jupiter.api.Test;

class VitTeacherTest {
  private static final VitConfig CONFIG = VitConfig.preset("tiny", 32, 16).withTokenHeadDim(24);

  private static NDArray pixels(NDManager m, int batch, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[batch * 3 * 32 * 32];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextDouble();
    }
    return m.create(v, new Shape(batch, 3, 32, 32));
  }

  @Test
  void targetsAreTheTokenHeadOutputsOfTheNormalisedImageWithoutCls() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer reference = VisionTransformer.initialize(CONFIG, m, 4);
        VitTeacher teacher =
            new VitTeacher(
                "vit-test",
                VisionTransformer.initialize(CONFIG, m, 4),
                ImageNormalization.CLIP,
                true)) {
      NDArray pixels = pixels(m, 3, 1);
      NDArray targets = teacher.targets(pixels);
      NDArray features =
          reference.forwardFeatures(ImageNormalization.CLIP.apply(pixels), null, false, null);
      NDArray expected = reference.predictTokens(features);

      assertThat(targets.getShape()).isEqualTo(new Shape(3, 4, 24));
      assertThat(teacher.targetShape(3)).isEqualTo(targets.getShape());
      assertThat(targets.getManager()).isSameAs(m);
      assertThat(targets.toFloatArray()).containsExactly(expected.toFloatArray());
      assertThat(teacher.id()).isEqualTo("vit-test");
      assertThat(teacher.imageSize()).isEqualTo(32);
      assertThat(teacher.numTokens()).isEqualTo(4);
      assertThat(teacher.dim()).isEqualTo(24);
      assertThat(teacher.normalization()).isEqualTo(ImageNormalization.CLIP);
    }
  }

  @Test
  void float16ComputeMatchesFloat32WithinHalfPrecision() {
    try (NDManager m = NDManager.newBaseManager();
        VitTeacher full =
            new VitTeacher(
                "full",
                VisionTransformer.initialize(CONFIG, m, 4),
                ImageNormalization.CLIP,
                true,
                DataType.FLOAT32);
        VitTeacher half =
            new VitTeacher(
                "half",
                VisionTransformer.initialize(CONFIG, m, 4),
                ImageNormalization.CLIP,
                true,
                DataType.FLOAT16)) {
      NDArray pixels = pixels(m, 2, 5);
      float[] expected = full.targets(pixels).toFloatArray();
      NDArray targets = half.targets(pixels);

      assertThat(targets.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(targets.getManager()).isSameAs(m);
      float[] actual = targets.toFloatArray();
      double maxDiff = 0;
      double maxAbs = 0;
      for (int i = 0; i < actual.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((double) actual[i] - expected[i]));
        maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
      }
      assertThat(maxDiff).isGreaterThan(0.0).isLessThanOrEqualTo(2e-2 * maxAbs);
    }
  }

  @Test
  void withoutTokenHeadTargetsArePatchFeatures() {
    VitConfig bare = CONFIG.withTokenHeadDim(0);
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer reference = VisionTransformer.initialize(bare, m, 4);
        VitTeacher teacher =
            new VitTeacher(
                "vit",
                VisionTransformer.initialize(bare, m, 4),
                ImageNormalization.IMAGENET,
                false)) {
      NDArray pixels = pixels(m, 2, 2);
      NDArray targets = teacher.targets(pixels);
      NDArray features =
          reference.forwardFeatures(ImageNormalization.IMAGENET.apply(pixels), null, false, null);

      assertThat(teacher.dim()).isEqualTo(192);
      assertThat(targets.getShape()).isEqualTo(new Shape(2, 4, 192));
      assertThat(targets.toFloatArray()).containsExactly(features.get(":, 1:, :").toFloatArray());
    }
  }

  @Test
  void targetsCarryNoGraphWhileAStudentIsRecorded() {
    try (NDManager m = NDManager.newBaseManager();
        VitTeacher teacher =
            new VitTeacher(
                "vit", VisionTransformer.initialize(CONFIG, m, 4), ImageNormalization.CLIP, true)) {
      NDArray student = m.ones(new Shape(3, 4, 24));
      student.setRequiresGradient(true);
      NDArray pixels = pixels(m, 3, 5);
      NDArray targets;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        targets = teacher.targets(pixels);
        gc.backward(student.mul(targets).sum());
      }
      assertThat(targets.hasGradient()).isFalse();
      assertThat(student.getGradient().toFloatArray()).containsExactly(targets.toFloatArray());
      assertThat(teacher.targets(pixels).toFloatArray()).containsExactly(targets.toFloatArray());
    }
  }

  @Test
  void tokenHeadIsRequiredWhenAskedFor() {
    try (NDManager m = NDManager.newBaseManager();
        VisionTransformer model = VisionTransformer.initialize(CONFIG.withTokenHeadDim(0), m, 4)) {
      assertThatThrownBy(() -> new VitTeacher("t", model, ImageNormalization.CLIP, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Teacher t uses the token head, but model 'tiny' has none");
      ImageNormalization gray = new ImageNormalization(new float[] {0.5f}, new float[] {0.5f});
      assertThatThrownBy(() -> new VitTeacher("t", model, gray, false))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Normalization must have one entry per input channel (3), cannot have: 1");
    }
  }

  @Test
  void closingTheTeacherClosesItsModel() {
    try (NDManager m = NDManager.newBaseManager()) {
      VisionTransformer model = VisionTransformer.initialize(CONFIG, m, 4);
      VitTeacher teacher = new VitTeacher("t", model, ImageNormalization.CLIP, true);
      teacher.close();
      assertThat(model.parameters().manager().isOpen()).isFalse();
    }
  }
}

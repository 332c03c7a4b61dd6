package org.dtmspark.core.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.dtmspark.core.data.ImageNormalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomClipCheckpointTest {
  @TempDir Path dir;

  private static final ClipVisionConfig TINY =
      new ClipVisionConfig(16, 32, 1, 2, 16, 8, ClipVisionConfig.Activation.QUICK_GELU, 1e-5, 6);

  @Test
  void writesACheckpointThatLoadsAsAClipTeacherOfThatShape() throws IOException {
    RandomClipCheckpoint.write(dir.resolve("a"), TINY, 3);
    try (NDManager m = NDManager.newBaseManager();
        ClipVisionTeacher teacher = ClipVisionTeacher.load(dir.resolve("a"), m, Optional.empty())) {
      assertThat(teacher.config()).isEqualTo(TINY);
      assertThat(teacher.normalization()).isEqualTo(ImageNormalization.CLIP);
      NDArray tokens = teacher.targets(m.full(new Shape(2, 3, 16, 16), 0.3f));
      assertThat(tokens.getShape()).isEqualTo(new Shape(2, 4, 6));
      assertThat(tokens.abs().sum().getFloat()).isGreaterThan(0f);
    }
  }

  @Test
  void theSameSeedWritesTheSameWeights() throws IOException {
    RandomClipCheckpoint.write(dir.resolve("a"), TINY, 3);
    RandomClipCheckpoint.write(dir.resolve("b"), TINY, 3);
    RandomClipCheckpoint.write(dir.resolve("c"), TINY, 4);
    byte[] a = Files.readAllBytes(dir.resolve("a/model.safetensors"));
    assertThat(Files.readAllBytes(dir.resolve("b/model.safetensors"))).isEqualTo(a);
    assertThat(Files.readAllBytes(dir.resolve("c/model.safetensors"))).isNotEqualTo(a);
  }

  @Test
  void vitB16HasTheShapeOfOpenAiClipVitBase16() {
    ClipVisionConfig c = RandomClipCheckpoint.vitB16();
    assertThat(c.numPatches()).isEqualTo(196);
    assertThat(c.projectionDim()).isEqualTo(512);
    assertThat(c.hiddenSize()).isEqualTo(768);
    assertThat(c.numLayers()).isEqualTo(12);
  }
}

package org.dtmspark.core.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

class TeachersTest {
  private static Path resource(String name) {
    try {
      return Paths.get(TeachersTest.class.getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final Path CLIP = resource("/golden/clip/config.json").getParent();
  private static final Path TORCHSCRIPT = resource("/golden/torchscript/cls_tokens.pt");

  @Test
  void clipDirectoryOpensOnTheGivenDeviceInFloat16() throws IOException {
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        Teacher half = Teachers.open(CLIP, "teacher", true, 32, 8, Device.cpu(), DataType.FLOAT16);
        Teacher full = Teachers.open(CLIP, "teacher", true, 32, 8)) {
      NDArray pixels = m.full(new Shape(2, 3, 32, 32), 0.5f);
      NDArray a = half.targets(pixels);
      NDArray e = full.targets(pixels);
      assertThat(a.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(a.getShape()).isEqualTo(new Shape(2, 16, 20));
      assertThat(a.toFloatArray()).isNotEqualTo(e.toFloatArray());
      assertThat(half.id()).isEqualTo(full.id());
    }
  }

  @Test
  void torchScriptTeachersComputeOnlyInFloat32() {
    assertThat(Teachers.supportsFloat16(TORCHSCRIPT)).isFalse();
    assertThat(Teachers.supportsFloat16(CLIP)).isTrue();
    assertThatThrownBy(
            () ->
                Teachers.open(TORCHSCRIPT, "teacher", true, 16, 4, Device.cpu(), DataType.FLOAT16))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "TorchScript teacher "
                + TORCHSCRIPT
                + " computes in the precision it was saved in: its compute type must be float32,"
                + " cannot be: float16");
  }

  @Test
  void anUnknownNormalizationIsNamed() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Teachers.open(CLIP, "clip-ish", true, 32, 8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Teacher normalization must be teacher or imagenet, cannot be: clip-ish");
  }
}

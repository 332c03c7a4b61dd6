package org.dtmspark.core.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.io.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TorchScriptTeacher} against modules and outputs written by {@code
 * golden/torchscript/make_modules.py} with Debian's torch 1.13 (its header says how to regenerate
 * them). Image size 16, patch size 4: N = 16 tokens of P = 8 features.
 */
class TorchScriptTeacherTest {
  private static final double TOLERANCE = 1e-5;

  private static Path resource(String name) {
    URL url = TorchScriptTeacherTest.class.getResource("/golden/torchscript/" + name);
    if (url == null) {
      throw new IllegalStateException("Golden resource missing from the test classpath: " + name);
    }
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static NDArray npy(NDManager m, String name) throws IOException {
    NpyArray a = Npy.read(resource(name));
    return m.create(a.data(), new Shape(a.shape()));
  }

  private static TorchScriptTeacher load(String name, NDManager m) throws IOException {
    return TorchScriptTeacher.load(resource(name), 16, 4, ImageNormalization.CLIP, m);
  }

  private static void assertClose(NDArray actual, NDArray expected) {
    assertThat(actual.getShape()).isEqualTo(expected.getShape());
    float maxDiff = actual.sub(expected).abs().max().getFloat();
    assertThat(maxDiff).isLessThanOrEqualTo((float) TOLERANCE);
  }

  @Test
  void clsTokenIsDroppedAndTokensMatchPyTorch() throws IOException {
    try (NDManager m = NDManager.newBaseManager();
        TorchScriptTeacher teacher = load("cls_tokens.pt", m)) {
      assertThat(teacher.dropsClsToken()).isTrue();
      assertThat(teacher.numTokens()).isEqualTo(16);
      assertThat(teacher.dim()).isEqualTo(8);
      assertThat(teacher.imageSize()).isEqualTo(16);
      assertThat(teacher.normalization()).isEqualTo(ImageNormalization.CLIP);
      NDArray targets = teacher.targets(npy(m, "pixels.npy"));
      assertThat(targets.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(targets.getManager()).isSameAs(m);
      assertClose(targets, npy(m, "cls_tokens_expected.npy"));
    }
  }

  @Test
  void patchTokensAreReturnedAsTheyAreAndMatchPyTorch() throws IOException {
    try (NDManager m = NDManager.newBaseManager();
        TorchScriptTeacher teacher = load("patch_tokens.pt", m)) {
      assertThat(teacher.dropsClsToken()).isFalse();
      assertThat(teacher.numTokens()).isEqualTo(16);
      assertThat(teacher.dim()).isEqualTo(8);
      assertClose(teacher.targets(npy(m, "pixels.npy")), npy(m, "patch_tokens_expected.npy"));
    }
  }

  @Test
  void targetsSurviveAfterTheTeacherIsClosed() throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray targets;
      try (TorchScriptTeacher teacher = load("cls_tokens.pt", m)) {
        targets = teacher.targets(npy(m, "pixels.npy"));
      }
      assertClose(targets, npy(m, "cls_tokens_expected.npy"));
    }
  }

  @Test
  void idIsTheAbsolutePathAndAHashOfTheFile() throws IOException {
    try (NDManager m = NDManager.newBaseManager();
        TorchScriptTeacher a = load("cls_tokens.pt", m);
        TorchScriptTeacher b = load("patch_tokens.pt", m)) {
      assertThat(a.id()).matches(".*/golden/torchscript/cls_tokens\\.pt@sha256:[0-9a-f]{16}");
      assertThat(b.id()).matches(".*/golden/torchscript/patch_tokens\\.pt@sha256:[0-9a-f]{16}");
      assertThat(a.id().substring(a.id().indexOf('@')))
          .isNotEqualTo(b.id().substring(b.id().indexOf('@')));
    }
  }

  @Test
  void rankTwoOutputFailsNamingTheFileAndShape() {
    try (NDManager m = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load("pooled.pt", m))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(resource("pooled.pt").toString())
          .hasMessageContaining("rank-3")
          .hasMessageContaining("(1, 8)");
    }
  }

  @Test
  void wrongTokenCountFailsNamingTheFileShapeAndExpectedCounts() {
    try (NDManager m = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> load("wrong_count.pt", m))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(resource("wrong_count.pt").toString())
          .hasMessageContaining("(1, 4, 8)")
          .hasMessageContaining("expected 16 or 17 tokens");
    }
  }

  @Test
  void missingFileFailsNamingThePath(@TempDir Path dir) {
    Path missing = dir.resolve("absent.pt");
    try (NDManager m = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> TorchScriptTeacher.load(missing, 16, 4, ImageNormalization.CLIP, m))
          .isInstanceOf(NoSuchFileException.class)
          .hasMessageContaining(missing.toString());
    }
  }

  @Test
  void outputsCarryNoGradientInsideAnOpenCollector() throws IOException {
    try (NDManager m = NDManager.newBaseManager();
        TorchScriptTeacher teacher = load("cls_tokens.pt", m)) {
      NDArray pixels = npy(m, "pixels.npy");
      pixels.setRequiresGradient(true);
      NDArray student = m.ones(new Shape(2, 16, 8));
      student.setRequiresGradient(true);
      NDArray targets;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        targets = teacher.targets(pixels);
        gc.backward(student.mul(targets).sum());
      }
      assertThat(targets.hasGradient()).isFalse();
      assertThat(student.getGradient().toFloatArray()).containsExactly(targets.toFloatArray());
      assertThat(pixels.getGradient().abs().max().getFloat()).isZero();
    }
  }
}

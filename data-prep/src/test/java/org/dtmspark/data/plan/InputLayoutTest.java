package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.dtmspark.data.plan.InputTrees.bytes;
import static org.dtmspark.data.plan.InputTrees.hadoop;
import static org.dtmspark.data.plan.InputTrees.localFs;
import static org.dtmspark.data.plan.InputTrees.write;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputLayoutTest {
  @TempDir Path root;

  private InputLayout detect(Path dir) throws IOException {
    return InputLayout.detect(localFs(), hadoop(dir));
  }

  @Test
  void splitAndClassDirectoriesAreAnImageFolder() throws IOException {
    write(root, "training/cat/1.png", bytes("a", 3));

    assertThat(detect(root)).isEqualTo(InputLayout.IMAGE_FOLDER);
  }

  @Test
  void theKaggleDataDirectoryOrALabelCsvBesideAFlatValIsKaggle() throws IOException {
    write(root, "kaggle/ILSVRC/Data/CLS-LOC/train/n01/x.JPEG", bytes("a", 3));
    write(root, "flat/train/n01/x.JPEG", bytes("a", 3));
    write(root, "flat/val/v.JPEG", bytes("a", 3));
    write(root, "flat/LOC_val_solution.csv", "ImageId,PredictionString\n");

    assertThat(detect(root.resolve("kaggle"))).isEqualTo(InputLayout.KAGGLE);
    assertThat(detect(root.resolve("flat"))).isEqualTo(InputLayout.KAGGLE);
  }

  @Test
  void eitherIlsvrcArchiveMeansTheArchiveLayout() throws IOException {
    write(root, "a/" + InputLayout.VAL_ARCHIVE, bytes("a", 3));
    write(root, "a/train/n01/x.JPEG", bytes("a", 3));

    assertThat(detect(root.resolve("a"))).isEqualTo(InputLayout.ILSVRC_ARCHIVES);
  }

  @Test
  void anythingElseIsAnErrorNamingTheRootAndTheLayouts() throws IOException {
    write(root, "flat/a.JPEG", bytes("a", 3));
    write(root, "flat/.hidden/n01/b.JPEG", bytes("a", 3));
    Path flat = root.resolve("flat");

    assertThatThrownBy(() -> detect(flat))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Cannot detect the input layout of " + hadoop(flat) + ": expected")
        .hasMessageContaining("<root>/<split>/<class>/<image> directories (image-folder)")
        .hasMessageContaining("(kaggle)")
        .hasMessageContaining("(ilsvrc-archives)")
        .hasMessageContaining("found [.hidden, a.JPEG]");
    assertThatThrownBy(() -> detect(root.resolve("missing")))
        .hasMessage("Input root does not exist: " + hadoop(root.resolve("missing")));
    assertThatThrownBy(() -> detect(flat.resolve("a.JPEG")))
        .hasMessageStartingWith("Input root must be a directory, cannot be a file: ");
  }

  @Test
  void layoutsAreNamedByTheirCommandLineNames() {
    assertThat(InputLayout.fromName("image-folder")).isEqualTo(InputLayout.IMAGE_FOLDER);
    assertThat(InputLayout.fromName("KAGGLE")).isEqualTo(InputLayout.KAGGLE);
    assertThat(InputLayout.fromName("ilsvrc_archives")).isEqualTo(InputLayout.ILSVRC_ARCHIVES);
    assertThatThrownBy(() -> InputLayout.fromName("zip"))
        .hasMessage(
            "Input layout must be one of [image-folder, kaggle, ilsvrc-archives], cannot be: zip");
  }
}

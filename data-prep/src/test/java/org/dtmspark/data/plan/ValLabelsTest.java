package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.dtmspark.data.plan.InputTrees.hadoop;
import static org.dtmspark.data.plan.InputTrees.localFs;
import static org.dtmspark.data.plan.InputTrees.write;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValLabelsTest {
  @TempDir Path dir;

  private ValLabels read(String text) throws IOException {
    return ValLabels.read(localFs(), hadoop(write(dir, "labels.txt", text)));
  }

  @Test
  void kaggleCsvTakesTheFirstWnidOfThePredictionString() throws IOException {
    ValLabels labels =
        read(
            "ImageId,PredictionString\n"
                + "ILSVRC2012_val_00008726,n02119789 255 142 454 329 n02119789 44 21 322 295 \n"
                + "\"ILSVRC2012_val_00000001\",\"n01751748 1 2 3 4\"\n\n");

    assertThat(labels.wnidByKey())
        .isEqualTo(
            Map.of("ILSVRC2012_val_00008726", "n02119789", "ILSVRC2012_val_00000001", "n01751748"));
    assertThat(labels.wnids()).containsExactly("n01751748", "n02119789");
  }

  @Test
  void plainLinesNameTheImageWithItsExtension() throws IOException {
    ValLabels labels = read("ILSVRC2012_val_00000001.JPEG n01751748\nval/x.JPEG\tn02\n");

    assertThat(labels.wnidOf("ILSVRC2012_val_00000001")).isEqualTo("n01751748");
    assertThat(labels.wnidOf("x")).isEqualTo("n02");
    assertThat(labels.wnidOf("y")).isNull();
  }

  @Test
  void malformedAndRepeatedRowsAreErrorsNamingTheLine() {
    assertThatThrownBy(() -> read("a.JPEG n01\n65\n"))
        .hasMessageContaining("labels.txt line 2 must be '<image> <wnid>'")
        .hasMessageEndingWith("cannot be: 65");
    assertThatThrownBy(() -> read("ImageId,PredictionString\nx,\n"))
        .hasMessageContaining("line 2 must be ImageId,PredictionString with a wnid first");
    assertThatThrownBy(() -> read("a.JPEG n01\n\na.png n02\n"))
        .hasMessageContaining("line 3 repeats image a (first on line 1)");
  }
}

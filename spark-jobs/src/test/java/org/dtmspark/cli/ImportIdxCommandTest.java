package org.dtmspark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.dtmspark.data.idx.IdxImages;
import org.dtmspark.data.idx.IdxLabels;
import org.dtmspark.data.idx.IdxWriter;
import org.dtmspark.data.shard.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportIdxCommandTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = DtmCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  private Path trainImages;
  private Path trainLabels;
  private Path testImages;
  private Path testLabels;

  /** Two splits of 3 x 3 images: 12 (gzip) and 5 (plain), labels 0..3. */
  @BeforeEach
  void writeIdxFiles() throws Exception {
    trainImages = dir.resolve("train-images-idx3-ubyte.gz");
    trainLabels = dir.resolve("train-labels-idx1-ubyte.gz");
    testImages = dir.resolve("t10k-images-idx3-ubyte");
    testLabels = dir.resolve("t10k-labels-idx1-ubyte");
    byte[] pixels = new byte[17 * 9];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 7);
    }
    IdxWriter.writeImages(
        new IdxImages(12, 3, 3, java.util.Arrays.copyOf(pixels, 12 * 9)), trainImages, true);
    IdxWriter.writeLabels(IdxLabels.of(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3), trainLabels, true);
    IdxWriter.writeImages(
        new IdxImages(5, 3, 3, java.util.Arrays.copyOfRange(pixels, 12 * 9, 17 * 9)),
        testImages,
        false);
    IdxWriter.writeLabels(IdxLabels.of(3, 2, 1, 0, 3), testLabels, false);
  }

  private String[] args(Path labelsOfTest, Path output, String... extra) {
    String[] base = {
      "import-idx",
      "--images",
      trainImages.toString(),
      "--labels",
      trainLabels.toString(),
      "--split",
      "train",
      "--images",
      testImages.toString(),
      "--labels",
      labelsOfTest.toString(),
      "--split",
      "test",
      "--output",
      output.toString()
    };
    String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return all;
  }

  @Test
  void importsEverySplitAndPrintsOneSummaryLine() throws Exception {
    Path out = dir.resolve("shards");

    Run r = run(args(testLabels, out, "--classes", "d,c,b,a", "--rows-per-shard", "5"));

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().lines()).hasSize(1);
    assertThat(r.out())
        .startsWith("import-idx: 17 images (test 5, train 12), 4 classes, 4 shards (")
        .contains("0 rejects");
    Manifest manifest =
        Manifest.read(new Configuration(), new org.apache.hadoop.fs.Path(out.toString()));
    assertThat(manifest.synsets()).containsExactly("a", "b", "c", "d");
    assertThat(manifest.splits().get("test").classes())
        .containsEntry("d", 1L)
        .containsEntry("a", 2L);
    assertThat(manifest.options()).containsEntry("rows_per_shard", 5);
  }

  @Test
  void missingLabelFileIsNamed() {
    Path missing = dir.resolve("t10k-labels-idx1-ubyte.gz");
    Path out = dir.resolve("shards");

    Run r = run(args(missing, out));

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("dtm import-idx: file not found: " + missing)
        .contains("labels of split test");
    assertThat(Files.exists(out)).isFalse();
  }

  @Test
  void aSplitWithoutItsLabelsIsAUsageError() {
    Run r =
        run(
            "import-idx",
            "--images",
            trainImages.toString(),
            "--split",
            "train",
            "--output",
            dir.resolve("shards").toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required argument").contains("--labels");
  }

  @Test
  void finishedOutputNeedsOverwrite() {
    Path out = dir.resolve("shards");
    assertThat(run(args(testLabels, out)).code()).isZero();

    Run again = run(args(testLabels, out));
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("_manifest.json exists").contains("--overwrite");

    Run replaced = run(args(testLabels, out, "--overwrite", "--format", "jpeg"));
    assertThat(replaced.code()).as(replaced.err()).isZero();
  }

  @Test
  void badOptionValuesAreNamed() {
    Path out = dir.resolve("shards");
    assertThat(run(args(testLabels, out, "--format", "gif")).err())
        .contains("Image format must be png or jpeg, cannot be: gif");
    assertThat(run(args(testLabels, out, "--classes", "a,b")).err())
        .contains("must be less than the number of class names (2), cannot be: 2");
    assertThat(run(args(testLabels, out, "--rows-per-shard", "0")).err())
        .contains("Rows per shard must be at least 1, cannot be: 0");
  }
}

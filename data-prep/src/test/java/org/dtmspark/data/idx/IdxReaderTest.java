package org.dtmspark.data.idx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.dtmspark.core.data.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxReaderTest {
  private static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  @TempDir Path dir;

  /** Three 2 x 4 images with distinct bytes, including values above 127. */
  private static IdxImages threeImages() {
    byte[] px = new byte[3 * 2 * 4];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (i * 11);
    }
    return new IdxImages(3, 2, 4, px);
  }

  private static byte[] gzip(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  private static byte[] plainImagesFile(IdxImages images) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    IdxWriter.writeImages(images, out);
    return out.toByteArray();
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void imagesAndLabelsRoundTrip(boolean compressed) throws IOException {
    IdxImages images = threeImages();
    IdxLabels labels = IdxLabels.of(9, 0, 255);
    Path imageFile = dir.resolve("images-idx3-ubyte" + (compressed ? ".gz" : ""));
    Path labelFile = dir.resolve("labels-idx1-ubyte" + (compressed ? ".gz" : ""));
    IdxWriter.writeImages(images, imageFile, compressed);
    IdxWriter.writeLabels(labels, labelFile, compressed);

    byte[] head = Arrays.copyOf(Files.readAllBytes(imageFile), 2);
    assertThat(head[0] == 0x1f && head[1] == (byte) 0x8b).isEqualTo(compressed);
    IdxDataset read = IdxReader.readDataset(imageFile, labelFile);
    assertThat(read.images()).isEqualTo(images);
    assertThat(read.labels()).isEqualTo(labels);
    assertThat(read.labels().toIntArray()).containsExactly(9, 0, 255);
    assertThat(read.images().pixel(2, 1, 3)).isEqualTo((23 * 11) & 0xff);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).hasSize(2); // no temporary file left behind
    }
  }

  @Test
  void plainFileHasTheDocumentedLayout() throws IOException {
    byte[] file = plainImagesFile(threeImages());
    assertThat(Arrays.copyOf(file, 16))
        .containsExactly(0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4);
    assertThat(file).hasSize(16 + 24);
    ByteArrayOutputStream labels = new ByteArrayOutputStream();
    IdxWriter.writeLabels(IdxLabels.of(1, 2), labels);
    assertThat(labels.toByteArray()).containsExactly(0, 0, 8, 1, 0, 0, 0, 2, 1, 2);
  }

  @Test
  void gzipIsDetectedByContentNotByName() throws IOException {
    byte[] compressed = gzip(plainImagesFile(threeImages()));
    Path misnamed = dir.resolve("images.idx");
    Files.write(misnamed, compressed);
    assertThat(IdxReader.readImages(misnamed)).isEqualTo(threeImages());
    assertThat(IdxReader.readImages(new ByteArrayInputStream(compressed), "stream"))
        .isEqualTo(threeImages());
  }

  @Test
  void gzipOutputIsReproducible() throws IOException {
    Path a = dir.resolve("a.gz");
    Path b = dir.resolve("b.gz");
    IdxWriter.writeImages(threeImages(), a, true);
    IdxWriter.writeImages(threeImages(), b, true);
    assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
  }

  @Test
  void truncatedDataNamesTheFileAndTheShortfall() throws IOException {
    byte[] file = plainImagesFile(threeImages());
    Path cut = dir.resolve("cut-idx3-ubyte");
    Files.write(cut, Arrays.copyOf(file, file.length - 5));
    assertThatThrownBy(() -> IdxReader.readImages(cut))
        .isInstanceOf(IdxFormatException.class)
        .hasMessage(
            "File "
                + cut
                + " is truncated: the header declares 3 images (24 bytes of data) but only 19"
                + " bytes follow it");
  }

  @Test
  void truncatedGzipNamesTheFile() throws IOException {
    byte[] compressed = gzip(plainImagesFile(threeImages()));
    Path cut = dir.resolve("cut.gz");
    Files.write(cut, Arrays.copyOf(compressed, compressed.length - 12));
    assertThatThrownBy(() -> IdxReader.readImages(cut))
        .isInstanceOf(IdxFormatException.class)
        .hasMessageStartingWith("File " + cut + " is truncated");
  }

  @Test
  void truncatedHeaderNamesTheFile() {
    byte[] header = {0, 0, 8, 3, 0, 0, 0, 3, 0};
    assertThatThrownBy(() -> IdxReader.readImages(new ByteArrayInputStream(header), "short.idx"))
        .isInstanceOf(IdxFormatException.class)
        .hasMessage(
            "File short.idx is truncated: it ends within the 3 dimension sizes of the header");
    assertThatThrownBy(() -> IdxReader.readLabels(new ByteArrayInputStream(new byte[0]), "empty"))
        .hasMessage("File empty is truncated: it ends within the 4-byte magic number");
  }

  @Test
  void labelFileReadAsImagesReportsTheMagicNumber() throws IOException {
    ByteArrayOutputStream labels = new ByteArrayOutputStream();
    IdxWriter.writeLabels(IdxLabels.of(1, 2), labels);
    assertThatThrownBy(
            () ->
                IdxReader.readImages(
                    new ByteArrayInputStream(labels.toByteArray()), "train-labels-idx1-ubyte"))
        .isInstanceOf(IdxFormatException.class)
        .hasMessage(
            "File train-labels-idx1-ubyte is not an idx image file: magic number must be"
                + " 0x00000803 (unsigned bytes, 3 dimensions), cannot be: 0x00000801");
  }

  @Test
  void trailingBytesAreAnError() throws IOException {
    byte[] file = Arrays.copyOf(plainImagesFile(threeImages()), 16 + 24 + 1);
    assertThatThrownBy(() -> IdxReader.readImages(new ByteArrayInputStream(file), "long.idx"))
        .isInstanceOf(IdxFormatException.class)
        .hasMessage(
            "File long.idx has unexpected bytes after the 3 images its header declares (24 bytes"
                + " of data)");
  }

  @Test
  void countMismatchNamesBothFiles() throws IOException {
    Path imageFile = dir.resolve("img.gz");
    Path labelFile = dir.resolve("lbl.gz");
    IdxWriter.writeImages(threeImages(), imageFile, true);
    IdxWriter.writeLabels(IdxLabels.of(1, 2), labelFile, true);
    assertThatThrownBy(() -> IdxReader.readDataset(imageFile, labelFile))
        .isInstanceOf(IdxFormatException.class)
        .hasMessage(
            "Image file "
                + imageFile
                + " holds 3 images but label file "
                + labelFile
                + " holds 2 labels; the counts must be equal");
  }

  @Test
  void toRgbImageReplicatesGrayToThreeChannels() {
    RgbImage rgb = threeImages().toRgbImage(1);
    assertThat(rgb.width()).isEqualTo(4);
    assertThat(rgb.height()).isEqualTo(2);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 4; x++) {
        float expected = (((8 + y * 4 + x) * 11) & 0xff) / 255f;
        for (int c = 0; c < 3; c++) {
          assertThat(rgb.get(c, y, x)).isEqualTo(expected);
        }
      }
    }
    assertThatThrownBy(() -> threeImages().toRgbImage(3))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("Image index must be in [0, 3), cannot be: 3");
  }

  @Test
  void selectKeepsImagesAndLabelsTogether() {
    IdxDataset all = new IdxDataset(threeImages(), IdxLabels.of(7, 8, 9));
    IdxDataset picked = all.select(new int[] {2, 0});
    assertThat(picked.labels().toIntArray()).containsExactly(9, 7);
    assertThat(picked.images().image(0)).isEqualTo(threeImages().image(2));
    assertThat(picked.images().image(1)).isEqualTo(threeImages().image(0));
    assertThatThrownBy(() -> new IdxDataset(threeImages(), IdxLabels.of(1)))
        .hasMessage("Number of labels must equal the number of images (3), cannot be: 1");
  }

  @Test
  void readsTheInstalledFashionMnistTestSet() throws IOException {
    // Debian package dataset-fashion-mnist; skipped where it is not installed.
    Path images = FASHION_MNIST.resolve("t10k-images-idx3-ubyte.gz");
    Path labels = FASHION_MNIST.resolve("t10k-labels-idx1-ubyte.gz");
    assumeTrue(Files.isReadable(images) && Files.isReadable(labels), "Fashion-MNIST not installed");
    IdxDataset test = IdxReader.readDataset(images, labels);
    assertThat(test.count()).isEqualTo(10_000);
    assertThat(test.images().rows()).isEqualTo(28);
    assertThat(test.images().cols()).isEqualTo(28);
    assertThat(Arrays.copyOf(test.labels().toIntArray(), 10))
        .containsExactly(9, 2, 1, 1, 6, 1, 4, 6, 5, 7);
    int sum = 0;
    for (byte b : test.images().image(0)) {
      sum += b & 0xff;
    }
    assertThat(sum).isEqualTo(33456); // computed independently with Python's gzip module
  }
}

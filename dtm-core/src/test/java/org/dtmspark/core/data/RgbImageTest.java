package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RgbImageTest {

  /** 5 x 3 image whose pixel (x, y) is R = 40x + 10, G = 60y + 5, B = 17(x + y). */
  private static BufferedImage colourImage(int type) {
    BufferedImage image = new BufferedImage(5, 3, type);
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 5; x++) {
        int rgb = ((40 * x + 10) << 16) | ((60 * y + 5) << 8) | (17 * (x + y));
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }

  private static byte[] encode(BufferedImage image, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(image, format, out)).as("writer for %s", format).isTrue();
    return out.toByteArray();
  }

  private static void assertColourImage(RgbImage img, float tolerance) {
    assertThat(img.width()).isEqualTo(5);
    assertThat(img.height()).isEqualTo(3);
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 5; x++) {
        assertThat(img.get(0, y, x)).isCloseTo((40 * x + 10) / 255f, within(tolerance));
        assertThat(img.get(1, y, x)).isCloseTo((60 * y + 5) / 255f, within(tolerance));
        assertThat(img.get(2, y, x)).isCloseTo(17 * (x + y) / 255f, within(tolerance));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"png", "bmp"})
  void losslessFormatsDecodeExactlyToPlanarRgb(String format) throws IOException {
    byte[] bytes = encode(colourImage(BufferedImage.TYPE_INT_RGB), format);
    assertColourImage(RgbImage.decode(bytes, "test." + format), 0f);
  }

  @Test
  void jpegDecodesCloseToTheOriginal() throws IOException {
    BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        flat.setRGB(x, y, (200 << 16) | (100 << 8) | 50);
      }
    }
    RgbImage img = RgbImage.decode(encode(flat, "jpg"), "flat.jpg");
    assertThat(img.get(0, 8, 8)).isCloseTo(200 / 255f, within(4 / 255f));
    assertThat(img.get(1, 8, 8)).isCloseTo(100 / 255f, within(4 / 255f));
    assertThat(img.get(2, 8, 8)).isCloseTo(50 / 255f, within(4 / 255f));
  }

  @Test
  void gifDecodesThroughItsPalette() throws IOException {
    BufferedImage two = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
    two.setRGB(0, 0, 0xff0000);
    two.setRGB(1, 0, 0x0000ff);
    RgbImage img = RgbImage.decode(encode(two, "gif"), "two.gif");
    assertThat(img.pixels()).containsExactly(1f, 0f, 0f, 0f, 0f, 1f);
  }

  @Test
  void grayscaleIsReplicatedFromRawSamplesWithoutGammaChange() throws IOException {
    BufferedImage gray = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
    gray.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 128, 255});
    RgbImage img = RgbImage.decode(encode(gray, "png"), "gray.png");
    float[] plane = {0f, 128 / 255f, 1f};
    for (int c = 0; c < 3; c++) {
      assertThat(Arrays.copyOfRange(img.pixels(), 3 * c, 3 * c + 3)).containsExactly(plane);
    }
  }

  @Test
  void sixteenBitGrayscaleScalesToTheUnitRange() {
    BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    gray.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {65535, 0});
    assertThat(RgbImage.fromBufferedImage(gray).pixels()).containsExactly(1f, 0f, 1f, 0f, 1f, 0f);
  }

  @Test
  void alphaIsIgnored() {
    BufferedImage argb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
    argb.setRGB(0, 0, 0x00336699); // fully transparent
    RgbImage img = RgbImage.fromBufferedImage(argb);
    assertThat(img.pixels()).containsExactly(0x33 / 255f, 0x66 / 255f, 0x99 / 255f);
  }

  @Test
  void toBufferedImageRoundTripsEightBitValues() {
    RgbImage img = RgbImage.fromBufferedImage(colourImage(BufferedImage.TYPE_3BYTE_BGR));
    assertColourImage(img, 0f);
    assertThat(RgbImage.fromBufferedImage(img.toBufferedImage())).isEqualTo(img);
  }

  @Test
  void undecodableBytesNameTheSource() {
    assertThatThrownBy(() -> RgbImage.decode(new byte[] {1, 2, 3, 4}, "shard-3/broken.jpg"))
        .isInstanceOf(ImageDecodeException.class)
        .hasMessage(
            "Cannot decode image shard-3/broken.jpg: no image reader recognises its format (4"
                + " bytes)");
  }

  @Test
  void truncatedFileNamesTheSource() throws IOException {
    byte[] png = encode(colourImage(BufferedImage.TYPE_INT_RGB), "png");
    byte[] cut = Arrays.copyOf(png, 40);
    assertThatThrownBy(() -> RgbImage.decode(cut, "cut.png"))
        .isInstanceOf(ImageDecodeException.class)
        .hasMessageStartingWith("Cannot decode image cut.png: ");
  }

  @Test
  void pixelsMustMatchTheSize() {
    assertThatThrownBy(() -> new RgbImage(2, 2, new float[11]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Pixels of a 2 x 2 RGB image must have length 12, cannot be: 11");
    assertThatThrownBy(() -> new RgbImage(0, 2, new float[0]))
        .hasMessage("Image size must be at least 1 x 1, cannot be: 0 x 2");
  }
}

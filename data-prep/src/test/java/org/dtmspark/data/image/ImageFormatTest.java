package org.dtmspark.data.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ImageFormatTest {

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  static Stream<Arguments> heads() {
    return Stream.of(
        Arguments.of("JPEG", bytes(0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'), "JPEG"),
        Arguments.of("JPEG, bare magic", bytes(0xFF, 0xD8, 0xFF), "JPEG"),
        Arguments.of("PNG", bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13), "PNG"),
        Arguments.of("GIF87a", ascii("GIF87a\u0010\u0000"), "GIF"),
        Arguments.of("GIF89a", ascii("GIF89a\u0010\u0000"), "GIF"),
        Arguments.of("BMP", ascii("BM6\u0003\u0000\u0000"), "BMP"),
        Arguments.of("WEBP", ascii("RIFF\u0024\u0000\u0000\u0000WEBPVP8L"), "WEBP"),
        Arguments.of("TIFF little-endian", bytes('I', 'I', 0x2A, 0x00, 8, 0, 0, 0), "TIFF"),
        Arguments.of("TIFF big-endian", bytes('M', 'M', 0x00, 0x2A, 0, 0, 0, 8), "TIFF"),
        Arguments.of("JPEG without the third FF", bytes(0xFF, 0xD8, 0x00, 0xE0), null),
        Arguments.of(
            "PNG signature with a broken line ending", ascii("\u0089PNG\r\n\u001a\r"), null),
        Arguments.of("GIF of an unknown version", ascii("GIF88a"), null),
        Arguments.of("RIFF that is not WEBP", ascii("RIFF\u0024\u0000\u0000\u0000WAVEfmt "), null),
        Arguments.of("RIFF cut before its type", ascii("RIFF\u0024\u0000\u0000\u0000WEB"), null),
        Arguments.of("TIFF with mixed byte order", bytes('I', 'I', 0x00, 0x2A), null),
        Arguments.of("text", ascii("hello, world\n"), null),
        Arguments.of("one byte", bytes(0xFF), null),
        Arguments.of("nothing", new byte[0], null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("heads")
  void sniffRecognisesEachFormatByItsMagicBytesOnly(String what, byte[] head, String expected) {
    Optional<ImageFormat> expectedFormat = Optional.ofNullable(expected).map(ImageFormat::valueOf);
    assertThat(ImageFormat.sniff(head)).isEqualTo(expectedFormat);
  }

  @Test
  void sniffLooksOnlyAtTheStartOfALongerArray() {
    byte[] file = Arrays.copyOf(bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A), 4096);
    assertThat(ImageFormat.sniff(file)).contains(ImageFormat.PNG);
    byte[] shifted = new byte[4096];
    System.arraycopy(file, 0, shifted, 1, 8);
    assertThat(ImageFormat.sniff(shifted)).isEmpty();
  }

  @Test
  void fileNameExtensionsClaimFormatsWithoutRegardToCase() {
    assertThat(ImageFormat.fromFileName("n02105855_2933.JPEG")).contains(ImageFormat.JPEG);
    assertThat(ImageFormat.fromFileName("train/n01/x.jpg")).contains(ImageFormat.JPEG);
    assertThat(ImageFormat.fromFileName("a.b\\c.Png")).contains(ImageFormat.PNG);
    assertThat(ImageFormat.fromFileName("scan.tif")).contains(ImageFormat.TIFF);
    assertThat(ImageFormat.fromFileName("x.webp")).contains(ImageFormat.WEBP);
    assertThat(ImageFormat.fromFileName("noextension")).isEmpty();
    assertThat(ImageFormat.fromFileName("dir.jpg/noextension")).isEmpty();
    assertThat(ImageFormat.fromFileName(".jpg")).isEmpty();
    assertThat(ImageFormat.fromFileName("labels.txt")).isEmpty();
  }
}

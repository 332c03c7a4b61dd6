package org.dtmspark.data.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import org.dtmspark.core.data.ByteArrayImageInputStream;
import org.dtmspark.data.image.Inspection.Accepted;
import org.dtmspark.data.image.Inspection.Rejected;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageInspectorTest {
  private static final ImageInspector DEFAULT = new ImageInspector(InspectOptions.DEFAULTS);

  // ---------------------------------------------------------------- helpers

  private static byte[] fixture(String name) {
    try (InputStream in = ImageInspectorTest.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("Missing test fixture " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static BufferedImage decode(byte[] bytes) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
      assertThat(image).as("decodable").isNotNull();
      return image;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Accepted accepted(Inspection inspection) {
    assertThat(inspection).isInstanceOf(Accepted.class);
    return (Accepted) inspection;
  }

  private static String rejectReason(Inspection inspection) {
    assertThat(inspection).isInstanceOf(Rejected.class);
    return ((Rejected) inspection).reason();
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] png(BufferedImage image) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(image, "png", out)).isTrue();
    return out.toByteArray();
  }

  private static int[] rgb(BufferedImage image, int x, int y) {
    int argb = image.getRGB(x, y);
    return new int[] {(argb >> 16) & 0xFF, (argb >> 8) & 0xFF, argb & 0xFF};
  }

  /** Mean absolute difference per channel between two same-size images. */
  private static double meanAbsDiff(BufferedImage a, BufferedImage b) {
    assertThat(b.getWidth()).isEqualTo(a.getWidth());
    assertThat(b.getHeight()).isEqualTo(a.getHeight());
    long sum = 0;
    for (int y = 0; y < a.getHeight(); y++) {
      for (int x = 0; x < a.getWidth(); x++) {
        int[] p = rgb(a, x, y);
        int[] q = rgb(b, x, y);
        for (int c = 0; c < 3; c++) {
          sum += Math.abs(p[c] - q[c]);
        }
      }
    }
    return (double) sum / (3.0 * a.getWidth() * a.getHeight());
  }

  /** The JDK's own JPEG reader, which TwelveMonkeys' reader wraps. */
  private static ImageReader jdkJpegReader() throws IOException {
    Iterator<ImageReaderSpi> spis =
        IIORegistry.getDefaultInstance().getServiceProviders(ImageReaderSpi.class, true);
    while (spis.hasNext()) {
      ImageReaderSpi spi = spis.next();
      if (spi.getPluginClassName().equals("com.sun.imageio.plugins.jpeg.JPEGImageReader")) {
        return spi.createReaderInstance();
      }
    }
    throw new IllegalStateException("The JDK's JPEG reader is not registered");
  }

  private static BufferedImage readWithJdk(byte[] jpeg) throws IOException {
    ImageReader reader = jdkJpegReader();
    try (ByteArrayImageInputStream in = new ByteArrayImageInputStream(jpeg)) {
      reader.setInput(in);
      return reader.read(0);
    } finally {
      reader.dispose();
    }
  }

  /** A PNG chunk: length, type, data, CRC over type and data. */
  private static byte[] chunk(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length).put(type.getBytes(StandardCharsets.US_ASCII)).put(data);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 4, 4 + data.length);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  // ---------------------------------------------------------------- the odd-case set

  /** What is expected of one input: "accept FORMAT colour reason" or "reject REASON-PREFIX". */
  private record Case(String path, byte[] bytes, String expected) {}

  @Test
  void everyInputIsAcceptedOrRejectedWithAReason() {
    byte[] rgbJpeg = fixture("rgb.jpg");
    byte[] rgbPng = fixture("rgb.png");
    Map<String, Case> cases = new LinkedHashMap<>();
    for (Case c :
        new Case[] {
          new Case("n01/rgb.JPEG", rgbJpeg, "accept JPEG rgb -"),
          new Case("n01/grayscale.JPEG", fixture("grayscale.jpg"), "accept JPEG grayscale -"),
          new Case("n01/cmyk.JPEG", fixture("cmyk.jpg"), "accept JPEG cmyk cmyk-jpeg"),
          new Case("n01/ycck.JPEG", fixture("ycck.jpg"), "accept JPEG ycck ycck-jpeg"),
          new Case(
              "n02105855/n02105855_2933.JPEG",
              rgbPng,
              "accept JPEG rgb format-mismatch: png named .JPEG"),
          new Case("n01/rgb.png", rgbPng, "accept PNG rgb -"),
          new Case("n01/rgba.png", fixture("rgba.png"), "accept PNG rgba -"),
          new Case("n01/grayscale.png", fixture("grayscale.png"), "accept PNG grayscale -"),
          new Case("n01/palette.png", fixture("palette.png"), "accept PNG palette -"),
          new Case("n01/palette.gif", fixture("palette.gif"), "accept GIF palette -"),
          new Case("n01/rgb.bmp", fixture("rgb.bmp"), "accept BMP rgb -"),
          new Case("n01/rgb.tif", fixture("rgb.tif"), "accept TIFF rgb -"),
          new Case(
              "n01/rgb.webp",
              fixture("rgb.webp"),
              "reject undecodable WEBP: no image reader for WEBP is installed"),
          new Case(
              "n01/half.JPEG",
              Arrays.copyOf(rgbJpeg, rgbJpeg.length / 2),
              "reject truncated JPEG (segment FFC4 at offset "),
          new Case(
              "n01/end-cut.JPEG",
              Arrays.copyOf(rgbJpeg, rgbJpeg.length - 2),
              "reject truncated JPEG (no end-of-image marker FF D9)"),
          new Case(
              "n01/half.png",
              Arrays.copyOf(rgbPng, rgbPng.length / 2),
              "reject truncated PNG (chunk IDAT at offset "),
          new Case("n01/empty.JPEG", new byte[0], "reject empty file"),
          new Case(
              "n01/notes.JPEG",
              "not a picture\n".getBytes(StandardCharsets.UTF_8),
              "reject not an image: first bytes 6e 6f 74 20 61 20 70 69 (\"not a pi\")"),
        }) {
      cases.put(c.path(), c);
    }

    int accepted = 0;
    int rejected = 0;
    for (Case c : cases.values()) {
      Inspection inspection = DEFAULT.inspect(c.path(), c.bytes());
      if (inspection instanceof Accepted) {
        accepted++;
      } else if (inspection instanceof Rejected) {
        rejected++;
      }
      String expected = c.expected();
      if (expected.startsWith("accept ")) {
        String[] parts = expected.split(" ", 4);
        Accepted a = accepted(inspection);
        assertThat(a.format()).as(c.path()).isEqualTo(ImageFormat.valueOf(parts[1]));
        assertThat(a.colorModel()).as(c.path()).isEqualTo(parts[2]);
        assertThat(a.reencodeReason())
            .as(c.path())
            .isEqualTo(parts[3].equals("-") ? null : parts[3]);
        assertThat(a.reencoded()).as(c.path()).isEqualTo(!parts[3].equals("-"));
        assertThat(decode(a.bytes()).getWidth()).as(c.path()).isEqualTo(a.width());
      } else {
        assertThat(rejectReason(inspection)).as(c.path()).startsWith(expected.substring(7));
      }
    }
    assertThat(cases).hasSize(18);
    assertThat(accepted).isEqualTo(12);
    assertThat(rejected).isEqualTo(6);
  }

  @Test
  void noContentMakesInspectionThrow() {
    byte[] rgbJpeg = fixture("rgb.jpg");
    byte[] rgbPng = fixture("rgb.png");
    // Every prefix of a JPEG and a PNG, and each with one byte flipped in turn, gets an answer.
    for (byte[] file : new byte[][] {rgbJpeg, rgbPng}) {
      for (int cut = 0; cut <= file.length; cut++) {
        assertThat(DEFAULT.inspect("x", Arrays.copyOf(file, cut))).isNotNull();
      }
      for (int i = 0; i < file.length; i++) {
        byte[] flipped = file.clone();
        flipped[i] ^= (byte) 0x5A;
        assertThat(DEFAULT.inspect("x", flipped)).isNotNull();
      }
    }
  }

  // ---------------------------------------------------------------- kept as they are

  @ParameterizedTest
  @ValueSource(
      strings = {
        "rgb.jpg",
        "grayscale.jpg",
        "rgb.png",
        "rgba.png",
        "grayscale.png",
        "palette.png",
        "palette.gif",
        "rgb.bmp",
        "rgb.tif"
      })
  void originalBytesAreStoredUnchangedWhenNoRepairIsDue(String name) throws Exception {
    byte[] original = fixture(name);
    byte[] copy = original.clone();

    Accepted a = accepted(DEFAULT.inspect("train/n01/" + name, original));

    assertThat(a.reencoded()).isFalse();
    assertThat(a.reencodeReason()).isNull();
    assertThat(a.bytes()).isSameAs(original).isEqualTo(copy);
    assertThat(a.sha256()).isEqualTo(sha256(copy));
    assertThat(a.format()).isEqualTo(ImageFormat.sniff(copy).orElseThrow());
    BufferedImage decoded = decode(copy);
    assertThat(a.width()).isEqualTo(decoded.getWidth());
    assertThat(a.height()).isEqualTo(decoded.getHeight());
  }

  @Test
  void dimensionsComeFromTheDecode() {
    assertThat(accepted(DEFAULT.inspect("a.jpg", fixture("rgb.jpg"))))
        .extracting(Accepted::width, Accepted::height)
        .containsExactly(48, 32);
    assertThat(accepted(DEFAULT.inspect("a.png", fixture("rgba.png"))))
        .extracting(Accepted::width, Accepted::height)
        .containsExactly(16, 12);
  }

  @Test
  void jpegWithBytesAfterItsEndMarkerIsKept() {
    byte[] padded = concat(fixture("rgb.jpg"), new byte[16]);
    Accepted a = accepted(DEFAULT.inspect("a.jpg", padded));
    assertThat(a.reencoded()).isFalse();
    assertThat(a.bytes()).isSameAs(padded);
  }

  @Test
  void fileWithoutAClaimingExtensionIsNotAMismatch() {
    for (String path : new String[] {"n01/img", "n01/img.bin", "n01/img.JPEG_"}) {
      Accepted a = accepted(DEFAULT.inspect(path, fixture("rgb.png")));
      assertThat(a.reencoded()).as(path).isFalse();
      assertThat(a.format()).as(path).isEqualTo(ImageFormat.PNG);
    }
  }

  // ---------------------------------------------------------------- repairs

  @ParameterizedTest
  @ValueSource(strings = {"cmyk", "ycck"})
  void cmykJpegIsReencodedToRgbWithSaneColours(String model) throws Exception {
    byte[] source = fixture(model + ".jpg");
    Accepted a = accepted(DEFAULT.inspect("n01/" + model + ".JPEG", source));

    assertThat(a.reencoded()).isTrue();
    assertThat(a.reencodeReason()).isEqualTo(model + "-jpeg");
    assertThat(a.colorModel()).isEqualTo(model);
    assertThat(a.format()).isEqualTo(ImageFormat.JPEG);
    assertThat(a.sha256()).isEqualTo(sha256(a.bytes()));
    JpegLayout layout = JpegLayout.scan(a.bytes());
    assertThat(layout.components()).isEqualTo(3);
    assertThat(layout.adobeTransform()).isEqualTo(-1);
    BufferedImage image = readWithJdk(a.bytes());
    assertThat(image.getWidth()).isEqualTo(16);
    assertThat(image.getHeight()).isEqualTo(16);
    // Quadrant centres: red ink, green (cyan + yellow), blue (cyan + magenta), paper.
    int[] red = rgb(image, 3, 3);
    int[] green = rgb(image, 12, 3);
    int[] blue = rgb(image, 3, 12);
    int[] white = rgb(image, 12, 12);
    assertThat(red[0]).as("red R").isGreaterThan(180);
    assertThat(Math.max(red[1], red[2])).as("red G, B").isLessThan(90);
    assertThat(green[1]).as("green G").isGreaterThan(Math.max(green[0], green[2]) + 60);
    assertThat(blue[2]).as("blue B").isGreaterThan(Math.max(blue[0], blue[1]) + 60);
    assertThat(Math.min(white[0], Math.min(white[1], white[2]))).as("white").isGreaterThan(225);
  }

  @Test
  void ycckAndCmykOfTheSameInksGiveTheSamePixels() {
    Accepted cmyk = accepted(DEFAULT.inspect("c.jpg", fixture("cmyk.jpg")));
    Accepted ycck = accepted(DEFAULT.inspect("y.jpg", fixture("ycck.jpg")));
    assertThat(meanAbsDiff(decode(ycck.bytes()), decode(cmyk.bytes()))).isLessThan(3.0);
  }

  @Test
  void jpegsAreDecodedByTwelveMonkeysReader() {
    assertThat(Codecs.reader(ImageFormat.JPEG).getPluginClassName())
        .isEqualTo("com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReader");
    assertThat(Codecs.reader(ImageFormat.PNG).getPluginClassName())
        .isEqualTo("com.sun.imageio.plugins.png.PNGImageReader");
  }

  @Test
  void pngNamedJpegIsReencodedAndFlagged() throws Exception {
    byte[] png = fixture("rgb.png");

    Accepted a = accepted(DEFAULT.inspect("train/n02105855/n02105855_2933.JPEG", png));

    assertThat(a.reencoded()).isTrue();
    assertThat(a.reencodeReason()).isEqualTo("format-mismatch: png named .JPEG");
    assertThat(a.format()).isEqualTo(ImageFormat.JPEG);
    assertThat(ImageFormat.sniff(a.bytes())).contains(ImageFormat.JPEG);
    assertThat(a.colorModel()).isEqualTo("rgb");
    assertThat(a.sha256()).isEqualTo(sha256(a.bytes()));
    assertThat(a.width()).isEqualTo(16);
    assertThat(a.height()).isEqualTo(12);
    assertThat(meanAbsDiff(readWithJdk(a.bytes()), decode(png))).isLessThan(6.0);
  }

  @Test
  void jpegNamedPngIsAMismatchToo() {
    Accepted a = accepted(DEFAULT.inspect("photo.png", fixture("rgb.jpg")));
    assertThat(a.reencodeReason()).isEqualTo("format-mismatch: jpeg named .png");
    assertThat(a.format()).isEqualTo(ImageFormat.JPEG);
  }

  @Test
  void grayscaleIsKept() {
    for (String name : new String[] {"grayscale.jpg", "grayscale.png"}) {
      byte[] original = fixture(name);
      Accepted a = accepted(DEFAULT.inspect("n01/" + name, original));
      assertThat(a.colorModel()).as(name).isEqualTo("grayscale");
      assertThat(a.reencoded()).as(name).isFalse();
      assertThat(a.bytes()).as(name).isSameAs(original);
    }
  }

  @Test
  void grayscaleStaysGrayWhenReencoded() {
    ImageInspector all = new ImageInspector(new InspectOptions(true, 0, 0.95f));
    byte[] png = fixture("grayscale.png");

    Accepted a = accepted(all.inspect("g.png", png));

    assertThat(a.reencodeReason()).isEqualTo("requested");
    assertThat(JpegLayout.scan(a.bytes()).components()).isEqualTo(1);
    BufferedImage stored = decode(a.bytes());
    BufferedImage source = decode(png);
    // Raw gray samples, compared without colour conversion.
    double diff = 0;
    for (int y = 0; y < 12; y++) {
      for (int x = 0; x < 16; x++) {
        diff +=
            Math.abs(stored.getRaster().getSample(x, y, 0) - source.getRaster().getSample(x, y, 0));
      }
    }
    assertThat(diff / (16 * 12)).isLessThan(4.0);
  }

  @Test
  void rgbaPngIsKeptUnlessReencodingEverythingIsAsked() {
    byte[] png = fixture("rgba.png");
    Accepted kept = accepted(DEFAULT.inspect("a.png", png));
    assertThat(kept.format()).isEqualTo(ImageFormat.PNG);
    assertThat(kept.colorModel()).isEqualTo("rgba");
    assertThat(kept.bytes()).isSameAs(png);

    ImageInspector all = new ImageInspector(new InspectOptions(true, 0, 0.95f));
    Accepted reencoded = accepted(all.inspect("a.png", png));
    assertThat(reencoded.format()).isEqualTo(ImageFormat.JPEG);
    assertThat(reencoded.reencodeReason()).isEqualTo("requested");
    assertThat(reencoded.colorModel()).isEqualTo("rgba");
    // Alpha is dropped, not composited: the colour channels survive even where alpha is 0.
    assertThat(meanAbsDiff(decode(reencoded.bytes()), decode(fixture("rgb.png")))).isLessThan(6.0);
  }

  @Test
  void jpegQualityIsApplied() {
    byte[] jpeg = fixture("rgb.jpg");
    int low =
        accepted(new ImageInspector(new InspectOptions(true, 0, 0.2f)).inspect("a.jpg", jpeg))
            .bytes()
            .length;
    int high =
        accepted(new ImageInspector(new InspectOptions(true, 0, 1f)).inspect("a.jpg", jpeg))
            .bytes()
            .length;
    assertThat(low).isLessThan(high);
  }

  @Test
  void reencodingIsDeterministic() {
    byte[] cmyk = fixture("cmyk.jpg");
    assertThat(DEFAULT.inspect("c.jpg", cmyk)).isEqualTo(DEFAULT.inspect("c.jpg", cmyk.clone()));
  }

  // ---------------------------------------------------------------- resize

  @Test
  void resizeKeepsAspectAndShorterSide() {
    byte[] landscape = fixture("rgb.jpg"); // 48 x 32
    Accepted a =
        accepted(
            new ImageInspector(new InspectOptions(false, 16, 0.95f)).inspect("l.jpg", landscape));
    assertThat(a.reencodeReason()).isEqualTo("resize");
    assertThat(a.format()).isEqualTo(ImageFormat.JPEG);
    assertThat(a.colorModel()).isEqualTo("rgb");
    assertThat(new int[] {a.width(), a.height()}).containsExactly(24, 16);
    BufferedImage stored = decode(a.bytes());
    assertThat(new int[] {stored.getWidth(), stored.getHeight()}).containsExactly(24, 16);
    // The content is the source's, scaled: compare with a plain 2 x 2 average of the source.
    BufferedImage source = decode(landscape);
    BufferedImage average = new BufferedImage(24, 16, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 24; x++) {
        int[] sum = new int[3];
        for (int d = 0; d < 4; d++) {
          int[] p = rgb(source, 2 * x + d % 2, 2 * y + d / 2);
          for (int c = 0; c < 3; c++) {
            sum[c] += p[c];
          }
        }
        average.setRGB(x, y, ((sum[0] / 4) << 16) | ((sum[1] / 4) << 8) | (sum[2] / 4));
      }
    }
    assertThat(meanAbsDiff(stored, average)).isLessThan(6.0);

    // Portrait, with a factor that is not a power of two: 12 x 16 -> 9 x 12.
    BufferedImage portrait = new BufferedImage(12, 16, BufferedImage.TYPE_INT_RGB);
    Accepted p;
    try {
      p =
          accepted(
              new ImageInspector(new InspectOptions(false, 9, 0.95f))
                  .inspect("p.png", png(portrait)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertThat(new int[] {p.width(), p.height()}).containsExactly(9, 12);
  }

  @Test
  void imagesNotLargerThanTheTargetAreNotResized() {
    byte[] jpeg = fixture("rgb.jpg"); // shorter side 32
    for (int side : new int[] {32, 33, 1000}) {
      Accepted a =
          accepted(
              new ImageInspector(new InspectOptions(false, side, 0.95f)).inspect("a.jpg", jpeg));
      assertThat(a.reencoded()).as("side " + side).isFalse();
      assertThat(a.bytes()).isSameAs(jpeg);
    }
  }

  @Test
  void largeReductionKeepsUniformColourToTheEdges() throws IOException {
    BufferedImage flat = new BufferedImage(200, 100, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 100; y++) {
      for (int x = 0; x < 200; x++) {
        flat.setRGB(x, y, (200 << 16) | (30 << 8) | 90);
      }
    }
    Accepted a =
        accepted(
            new ImageInspector(new InspectOptions(false, 10, 0.95f)).inspect("f.png", png(flat)));
    assertThat(new int[] {a.width(), a.height()}).containsExactly(20, 10);
    BufferedImage stored = decode(a.bytes());
    for (int y = 0; y < 10; y++) {
      for (int x = 0; x < 20; x++) {
        int[] p = rgb(stored, x, y);
        assertThat(p[0]).as("R at %d,%d", x, y).isCloseTo(200, within(4));
        assertThat(p[1]).as("G at %d,%d", x, y).isCloseTo(30, within(4));
        assertThat(p[2]).as("B at %d,%d", x, y).isCloseTo(90, within(4));
      }
    }
  }

  @Test
  void largeReductionAveragesFineDetailInsteadOfAliasing() throws IOException {
    // Thin white lines on black, one column in eight: reduced eight times, every pixel should be
    // the average, 255 / 8 = 32; point sampling between the lines would give black.
    BufferedImage lines = new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x += 8) {
        lines.getRaster().setSample(x, y, 0, 255);
      }
    }
    ImageInspector inspector = new ImageInspector(new InspectOptions(false, 6, 0.95f));

    Accepted a = accepted(inspector.inspect("c.png", png(lines)));

    BufferedImage stored = decode(a.bytes());
    assertThat(new int[] {stored.getWidth(), stored.getHeight()}).containsExactly(8, 6);
    for (int y = 0; y < 6; y++) {
      for (int x = 0; x < 8; x++) {
        assertThat(stored.getRaster().getSample(x, y, 0))
            .as("gray at %d,%d", x, y)
            .isCloseTo(32, within(6));
      }
    }
  }

  @Test
  void resizeKeepsGrayscaleGray() {
    Accepted a =
        accepted(
            new ImageInspector(new InspectOptions(false, 6, 0.95f))
                .inspect("g.jpg", fixture("grayscale.jpg")));
    assertThat(new int[] {a.width(), a.height()}).containsExactly(8, 6);
    assertThat(a.colorModel()).isEqualTo("grayscale");
    assertThat(JpegLayout.scan(a.bytes()).components()).isEqualTo(1);
  }

  @Test
  void resizedUniformGrayKeepsItsLevel() throws IOException {
    BufferedImage flat = new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) {
        flat.getRaster().setSample(x, y, 0, 128);
      }
    }
    Accepted a =
        accepted(
            new ImageInspector(new InspectOptions(false, 12, 0.95f)).inspect("g.png", png(flat)));
    BufferedImage stored = decode(a.bytes());
    assertThat(new int[] {stored.getWidth(), stored.getHeight()}).containsExactly(16, 12);
    for (int y = 0; y < 12; y++) {
      for (int x = 0; x < 16; x++) {
        assertThat(stored.getRaster().getSample(x, y, 0)).isCloseTo(128, within(2));
      }
    }
  }

  // ---------------------------------------------------------------- rejects

  /** Offset of the first byte of entropy-coded data: just after the start-of-scan segment. */
  private static int scanDataStart(byte[] jpeg) {
    for (int i = 2; i + 3 < jpeg.length; i++) {
      if (jpeg[i] == (byte) 0xFF && jpeg[i + 1] == (byte) 0xDA) {
        return i + 2 + (((jpeg[i + 2] & 0xFF) << 8) | (jpeg[i + 3] & 0xFF));
      }
    }
    throw new IllegalStateException("No start-of-scan marker");
  }

  @Test
  void truncatedJpegIsRejected() {
    byte[] jpeg = fixture("rgb.jpg");
    // Half the file: here the cut falls in the headers (the image data of 48 x 32 is small).
    assertThat(rejectReason(DEFAULT.inspect("a.jpg", Arrays.copyOf(jpeg, jpeg.length / 2))))
        .matches(
            "truncated JPEG \\(segment FF[0-9A-F]{2} at offset \\d+"
                + " runs past the end of the file\\)");
    int dataStart = scanDataStart(jpeg);
    byte[] halfData = Arrays.copyOf(jpeg, (dataStart + jpeg.length) / 2);
    assertThat(rejectReason(DEFAULT.inspect("a.jpg", halfData)))
        .isEqualTo("truncated JPEG (no end-of-image marker FF D9)");
    assertThat(rejectReason(DEFAULT.inspect("a.jpg", Arrays.copyOf(jpeg, jpeg.length - 2))))
        .isEqualTo("truncated JPEG (no end-of-image marker FF D9)");
    assertThat(rejectReason(DEFAULT.inspect("a.jpg", Arrays.copyOf(jpeg, jpeg.length - 1))))
        .isEqualTo("truncated JPEG (no end-of-image marker FF D9)");
    // Cut in the middle of the image data but ending in a valid end marker: the decoder notices.
    byte[] patched = concat(halfData, new byte[] {(byte) 0xFF, (byte) 0xD9});
    assertThat(rejectReason(DEFAULT.inspect("a.jpg", patched)))
        .startsWith("truncated JPEG (decoder: ")
        .containsIgnoringCase("premature end");
  }

  @Test
  void endMarkerInsideAThumbnailDoesNotHideATruncation() {
    byte[] jpeg = fixture("rgb.jpg");
    // An APP1 segment after SOI whose payload is a complete (tiny) JPEG, as Exif thumbnails are.
    byte[] thumbnail = fixture("grayscale.jpg");
    ByteBuffer app1 = ByteBuffer.allocate(4 + thumbnail.length);
    app1.put((byte) 0xFF).put((byte) 0xE1).putShort((short) (2 + thumbnail.length)).put(thumbnail);
    byte[] withThumbnail =
        concat(
            concat(Arrays.copyOf(jpeg, 2), app1.array()), Arrays.copyOfRange(jpeg, 2, jpeg.length));
    assertThat(accepted(DEFAULT.inspect("t.jpg", withThumbnail)).width()).isEqualTo(48);

    byte[] truncated = Arrays.copyOf(withThumbnail, withThumbnail.length - 100);
    assertThat(rejectReason(DEFAULT.inspect("t.jpg", truncated)))
        .isEqualTo("truncated JPEG (no end-of-image marker FF D9)");
  }

  @Test
  void truncatedPngIsRejected() {
    byte[] png = fixture("rgb.png");
    assertThat(rejectReason(DEFAULT.inspect("a.png", Arrays.copyOf(png, png.length / 2))))
        .matches("truncated PNG \\(chunk IDAT at offset \\d+ runs past the end of the file\\)");
    // Without its 12-byte IEND chunk.
    assertThat(rejectReason(DEFAULT.inspect("a.png", Arrays.copyOf(png, png.length - 12))))
        .isEqualTo("truncated PNG (no IEND chunk)");
    assertThat(rejectReason(DEFAULT.inspect("a.png", Arrays.copyOf(png, 8))))
        .isEqualTo("truncated PNG (no IEND chunk)");
  }

  @Test
  void pngWithACorruptCriticalChunkIsRejected() {
    byte[] png = fixture("rgb.png");
    byte[] corrupt = png.clone();
    corrupt[8 + 8 + 13 + 1] ^= 1; // a bit of IHDR's CRC
    assertThat(rejectReason(DEFAULT.inspect("a.png", corrupt)))
        .isEqualTo("undecodable PNG: CRC mismatch in chunk IHDR at offset 8");
  }

  @Test
  void undecodableImagesAreRejectedNamingTheFormat() {
    byte[] garbageJpeg =
        concat(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xD9}, new byte[0]);
    assertThat(rejectReason(DEFAULT.inspect("a.jpg", garbageJpeg)))
        .startsWith("undecodable JPEG: ");
    byte[] bmp = "BM this is not a bitmap".getBytes(StandardCharsets.US_ASCII);
    assertThat(rejectReason(DEFAULT.inspect("a.bmp", bmp))).startsWith("undecodable BMP: ");
    byte[] gif = "GIF89a".getBytes(StandardCharsets.US_ASCII);
    assertThat(rejectReason(DEFAULT.inspect("a.gif", gif))).startsWith("undecodable GIF: ");
    byte[] pngHeaderOnly = concat(Arrays.copyOf(fixture("rgb.png"), 8), chunk("IEND", new byte[0]));
    assertThat(rejectReason(DEFAULT.inspect("a.png", pngHeaderOnly)))
        .startsWith("undecodable PNG: ");
  }

  @Test
  void oversizedImageIsRejectedBeforeDecoding() {
    byte[] ihdr =
        ByteBuffer.allocate(13).putInt(70_000).putInt(70_000).put((byte) 8).put((byte) 2).array();
    byte[] png =
        concat(
            concat(
                concat(Arrays.copyOf(fixture("rgb.png"), 8), chunk("IHDR", ihdr)),
                chunk("IDAT", new byte[] {0x78, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})),
            chunk("IEND", new byte[0]));
    assertThat(rejectReason(DEFAULT.inspect("big.png", png)))
        .isEqualTo("image too large: 70000 x 70000 pixels, more than the limit of 134217728");
  }

  @Test
  void emptyFileIsRejected() {
    assertThat(rejectReason(DEFAULT.inspect("n01/x.JPEG", new byte[0]))).isEqualTo("empty file");
  }

  @Test
  void textFileIsRejected() {
    assertThat(
            rejectReason(
                DEFAULT.inspect("x.JPEG", "<html>\n<body>".getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("not an image: first bytes 3c 68 74 6d 6c 3e 0a 3c (\"<html>.<\")");
    assertThat(rejectReason(DEFAULT.inspect("x.JPEG", "ok".getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("not an image: first bytes 6f 6b (\"ok\")");
  }

  // ---------------------------------------------------------------- skipped files, options, values

  @ParameterizedTest
  @ValueSource(
      strings = {
        ".DS_Store",
        "train/n01/.DS_Store",
        "n01/._n01_1.JPEG",
        ".hidden.jpg",
        "Thumbs.db",
        "n01/THUMBS.DB",
        "desktop.ini",
        "__MACOSX/n01/n01_1.JPEG",
        "train\\__MACOSX\\x.JPEG",
        "n01/.ipynb_checkpoints/x.JPEG",
        "LOC_synset_mapping.txt",
        "LOC_val_solution.csv",
        "meta.JSON",
        "n01/n01.xml",
        "README.md"
      })
  void skippableNames(String name) {
    assertThat(ImageInspector.isSkippable(name)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "n01440764_10026.JPEG",
        "train/n01/n01_1.JPEG",
        "./n01/n01_1.JPEG",
        "../x/a.png",
        "img.txt.jpg",
        "macosx/a.jpg",
        "Thumbs.db.jpg",
        "noextension",
        "a.tif"
      })
  void imageNamesAreNotSkippable(String name) {
    assertThat(ImageInspector.isSkippable(name)).isFalse();
  }

  @Test
  void optionsAreValidated() {
    assertThat(InspectOptions.DEFAULTS).isEqualTo(new InspectOptions(false, 0, 0.95f));
    assertThatThrownBy(() -> new InspectOptions(false, -1, 0.9f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Shorter side to resize to must be at least 0 (0 = never resize), cannot be: -1");
    for (float q : new float[] {0f, -0.5f, 1.01f, Float.NaN}) {
      assertThatThrownBy(() -> new InspectOptions(false, 0, q))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("JPEG quality must be in (0, 1], cannot be: " + q);
    }
  }

  @Test
  void inspectionValuesAreValidated() {
    assertThatThrownBy(() -> new Rejected(" "))
        .hasMessage("A rejection needs a reason, cannot be:  ");
    String sha = "0".repeat(64);
    assertThatThrownBy(
            () -> new Accepted(new byte[1], ImageFormat.PNG, 1, 1, true, null, "rgb", sha))
        .hasMessageStartingWith("A re-encoding reason must be given exactly when");
    assertThatThrownBy(
            () -> new Accepted(new byte[1], ImageFormat.PNG, 0, 1, false, null, "rgb", sha))
        .hasMessage("Image size must be at least 1 x 1, cannot be: 0 x 1");
    assertThatThrownBy(
            () -> new Accepted(new byte[1], ImageFormat.PNG, 1, 1, false, null, "hsv", sha))
        .hasMessageStartingWith("Colour model must be one of ");
    assertThatThrownBy(
            () -> new Accepted(new byte[1], ImageFormat.PNG, 1, 1, false, null, "rgb", "AB"))
        .hasMessage("SHA-256 must be 64 lower-case hex digits, cannot be: AB");
  }
}

package org.dtmspark.data.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import org.dtmspark.core.data.ByteArrayImageInputStream;
import org.dtmspark.core.data.ByteRaster;
import org.dtmspark.core.data.ByteViewRenderer;
import org.dtmspark.core.data.DecodedCrop;
import org.dtmspark.core.data.ImageDecodeException;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.LoaderPool;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.SyntheticPhotos;
import org.dtmspark.core.data.ViewChoice;
import org.dtmspark.core.data.ViewParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShardRasterDecoderTest {
  private static byte[] fixture(String name) {
    try (InputStream in = ShardRasterDecoderTest.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("Missing test fixture " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What sharding's decoder (TwelveMonkeys for JPEG) gives, through the float decoder's path. */
  private static RgbImage referenceDecode(byte[] bytes, ImageFormat format) throws IOException {
    ImageReader reader = Codecs.reader(format).createReaderInstance();
    try (ByteArrayImageInputStream in = new ByteArrayImageInputStream(bytes)) {
      reader.setInput(in);
      return RgbImage.fromBufferedImage(reader.read(0));
    } finally {
      reader.dispose();
    }
  }

  private static ViewParams box(int x, int y, int w, int h) {
    return new ViewParams(x, y, w, h, false, 1f, 1f, 1f, new int[] {0, 1, 2});
  }

  @ParameterizedTest
  @ValueSource(strings = {"cmyk", "ycck", "rgb", "grayscale"})
  void jpegFixturesDecodeToTheShardingDecodersPixelsWholeAndByRegion(String model)
      throws IOException {
    byte[] bytes = fixture(model + ".jpg");
    RgbImage reference = referenceDecode(bytes, ImageFormat.JPEG);
    int w = reference.width();
    int h = reference.height();
    try (ShardRasterDecoder decoder = new ShardRasterDecoder()) {
      ByteRaster whole = decoder.decode(bytes, "jpeg", ViewChoice.fullImage(), model).raster();
      assertThat(whole.toRgbImage()).isEqualTo(reference);
      for (ViewParams view :
          List.of(box(3, 5, 9, 7), box(0, 0, w - 1, h), box(w - 4, h - 3, 4, 3))) {
        DecodedCrop crop = decoder.decode(bytes, "jpeg", ViewChoice.of(view), model);
        assertThat(crop.raster().width()).isEqualTo(view.cropWidth());
        for (int c = 0; c < 3; c++) {
          for (int y = 0; y < view.cropHeight(); y++) {
            for (int x = 0; x < view.cropWidth(); x++) {
              assertThat(crop.raster().get(c, y, x))
                  .as("%s %s c=%d y=%d x=%d", model, view, c, y, x)
                  .isEqualTo(whole.get(c, view.cropY() + y, view.cropX() + x));
            }
          }
        }
      }
    }
  }

  @Test
  void plainJpegsDecodeToTwelveMonkeysPixelsThroughTheJdkReader() throws IOException {
    BufferedImage photo = SyntheticPhotos.image(150, 110, 2);
    BufferedImage gray = new BufferedImage(150, 110, BufferedImage.TYPE_BYTE_GRAY);
    gray.getGraphics().drawImage(photo, 0, 0, null);
    List<byte[]> jpegs =
        List.of(
            SyntheticPhotos.encodeJpeg(photo, 0.9f, false),
            SyntheticPhotos.encodeJpeg(photo, 0.8f, true),
            SyntheticPhotos.encodeJpeg(gray, 0.9f, false));
    ViewParams view = box(13, 21, 101, 77);
    try (ShardRasterDecoder decoder = new ShardRasterDecoder()) {
      for (byte[] jpeg : jpegs) {
        assertThat(ShardRasterDecoder.isPlainJpeg(jpeg)).isTrue();
        RgbImage reference = referenceDecode(jpeg, ImageFormat.JPEG);
        ByteRaster whole = decoder.decode(jpeg, "jpeg", ViewChoice.fullImage(), "p").raster();
        assertThat(whole.toRgbImage()).isEqualTo(reference);
        DecodedCrop crop = decoder.decode(jpeg, "jpeg", ViewChoice.of(view), "p");
        assertThat(crop.raster().width()).isEqualTo(101);
        for (int y = 0; y < 77; y++) {
          for (int x = 0; x < 101; x++) {
            for (int c = 0; c < 3; c++) {
              assertThat(crop.raster().get(c, y, x) / 255f)
                  .isEqualTo(reference.get(c, 21 + y, 13 + x));
            }
          }
        }
      }
    }
  }

  @Test
  void jpegsWithAdobeSegmentsIccProfilesOrCutHeadersAreNotPlain() {
    assertThat(ShardRasterDecoder.isPlainJpeg(fixture("cmyk.jpg"))).isFalse();
    assertThat(ShardRasterDecoder.isPlainJpeg(fixture("ycck.jpg"))).isFalse();
    byte[] plain = SyntheticPhotos.jpeg(40, 30, 3, 0.9f);
    assertThat(ShardRasterDecoder.isPlainJpeg(plain)).isTrue();
    assertThat(ShardRasterDecoder.isPlainJpeg(Arrays.copyOf(plain, 30))).isFalse();
    // An APP2 ICC_PROFILE segment right after SOI.
    byte[] icc = "ICC_PROFILE\0\1\1".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    byte[] withIcc = new byte[plain.length + 4 + icc.length];
    withIcc[0] = (byte) 0xFF;
    withIcc[1] = (byte) 0xD8;
    withIcc[2] = (byte) 0xFF;
    withIcc[3] = (byte) 0xE2;
    withIcc[4] = 0;
    withIcc[5] = (byte) (2 + icc.length);
    System.arraycopy(icc, 0, withIcc, 6, icc.length);
    System.arraycopy(plain, 2, withIcc, 6 + icc.length, plain.length - 2);
    assertThat(ShardRasterDecoder.isPlainJpeg(withIcc)).isFalse();
  }

  @Test
  void aPngStoredAsJpegDecodesByItsBytes() throws IOException {
    BufferedImage photo = SyntheticPhotos.image(30, 20, 1);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(photo, "png", png);
    try (ShardRasterDecoder decoder = new ShardRasterDecoder()) {
      ByteRaster raster =
          decoder.decode(png.toByteArray(), "jpeg", ViewChoice.fullImage(), "n01/x.JPEG").raster();
      assertThat(raster.toRgbImage()).isEqualTo(RgbImage.fromBufferedImage(photo));
    }
  }

  @Test
  void bytesOfNoKnownFormatAreAnErrorNamingTheImage() {
    try (ShardRasterDecoder decoder = new ShardRasterDecoder()) {
      assertThatThrownBy(
              () ->
                  decoder.decode(new byte[] {9, 9, 9, 9}, "jpeg", ViewChoice.fullImage(), "n01/y"))
          .isInstanceOf(ImageDecodeException.class)
          .hasMessageStartingWith("Cannot decode image n01/y: ");
    }
  }

  @Test
  void theLoaderPoolRendersShardImagesAlikeWithOneAndThreeThreads() throws IOException {
    List<ImageSource> sources = new ArrayList<>();
    List<ViewParams> views = new ArrayList<>();
    for (String model : List.of("cmyk", "ycck", "rgb", "grayscale", "cmyk", "rgb")) {
      sources.add(ImageSource.encoded(model, fixture(model + ".jpg"), "jpeg"));
      views.add(box(2, 1, 12, 10));
    }
    byte[] one = new byte[sources.size() * 3 * 8 * 8];
    byte[] three = new byte[one.length];
    try (LoaderPool pool = new LoaderPool(1, ShardRasterDecoder::new)) {
      pool.render(sources, views, 8, one);
    }
    try (LoaderPool pool = new LoaderPool(3, ShardRasterDecoder::new)) {
      pool.render(sources, views, 8, three);
    }
    assertThat(three).isEqualTo(one);
    ByteViewRenderer renderer = new ByteViewRenderer();
    int each = 3 * 8 * 8;
    for (int i = 0; i < sources.size(); i++) {
      byte[] alone = new byte[each];
      ImageSource.Encoded source = (ImageSource.Encoded) sources.get(i);
      renderer.render(referenceDecode(source.bytes(), ImageFormat.JPEG), views.get(i), 8, alone, 0);
      assertThat(Arrays.copyOfRange(one, i * each, (i + 1) * each))
          .as(source.id())
          .isEqualTo(alone);
    }
  }
}

package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageIoRasterDecoderTest {
  private static byte[] png(BufferedImage image) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(image, "png", out)).isTrue();
    return out.toByteArray();
  }

  private static BufferedImage convert(BufferedImage src, int type) {
    BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), type);
    Graphics2D g = out.createGraphics();
    g.drawImage(src, 0, 0, null);
    g.dispose();
    return out;
  }

  private static ViewParams box(int x, int y, int w, int h) {
    return new ViewParams(x, y, w, h, false, 1f, 1f, 1f, new int[] {0, 1, 2});
  }

  /** Decodes random crop boxes by region and whole, and compares every sample of every box. */
  private static void assertRegionsEqualFullDecode(byte[] bytes, String format, int w, int h) {
    try (ImageIoRasterDecoder regions = new ImageIoRasterDecoder();
        ImageIoRasterDecoder whole = new ImageIoRasterDecoder(null, false)) {
      DecodedCrop full = whole.decode(bytes, format, ViewChoice.fullImage(), "full");
      assertThat(full.raster().width()).isEqualTo(w);
      SplittableRandom rng = new SplittableRandom(w * 31L + h);
      int decodedByRegion = 0;
      for (int i = 0; i < 40; i++) {
        int cw = 1 + rng.nextInt(w);
        int ch = 1 + rng.nextInt(h);
        ViewParams view = box(rng.nextInt(w - cw + 1), rng.nextInt(h - ch + 1), cw, ch);
        DecodedCrop crop = regions.decode(bytes, format, ViewChoice.of(view), "region");
        assertThat(crop.view()).isEqualTo(view);
        if (crop.raster().width() == cw && crop.raster().height() == ch) {
          decodedByRegion++;
        }
        for (int y = 0; y < ch; y++) {
          for (int x = 0; x < cw; x++) {
            for (int c = 0; c < 3; c++) {
              int got =
                  crop.raster()
                      .get(c, view.cropY() + y - crop.originY(), view.cropX() + x - crop.originX());
              int want = full.raster().get(c, view.cropY() + y, view.cropX() + x);
              if (got != want) {
                throw new AssertionError(
                    "Sample (c="
                        + c
                        + ", y="
                        + y
                        + ", x="
                        + x
                        + ") of "
                        + view
                        + ": "
                        + got
                        + " != "
                        + want);
              }
            }
          }
        }
      }
      assertThat(decodedByRegion).as("boxes decoded as regions").isGreaterThan(30);
    }
  }

  @Test
  void regionDecodeEqualsFullDecodeThenCropForBaselineAndProgressiveJpeg() {
    BufferedImage photo = SyntheticPhotos.image(203, 157, 11);
    assertRegionsEqualFullDecode(SyntheticPhotos.encodeJpeg(photo, 0.9f, false), "jpeg", 203, 157);
    assertRegionsEqualFullDecode(SyntheticPhotos.encodeJpeg(photo, 0.75f, true), "jpeg", 203, 157);
    assertRegionsEqualFullDecode(SyntheticPhotos.encodeJpeg(photo, 0.9f, false), null, 203, 157);
  }

  @Test
  void regionDecodeEqualsFullDecodeThenCropForGrayJpeg() {
    BufferedImage gray = convert(SyntheticPhotos.image(121, 99, 12), BufferedImage.TYPE_BYTE_GRAY);
    assertRegionsEqualFullDecode(SyntheticPhotos.encodeJpeg(gray, 0.9f, false), "jpeg", 121, 99);
  }

  @Test
  void regionDecodeEqualsFullDecodeThenCropForPng() throws IOException {
    BufferedImage photo = SyntheticPhotos.image(87, 64, 13);
    assertRegionsEqualFullDecode(png(photo), "png", 87, 64);
    assertRegionsEqualFullDecode(png(convert(photo, BufferedImage.TYPE_4BYTE_ABGR)), "png", 87, 64);
    assertRegionsEqualFullDecode(png(convert(photo, BufferedImage.TYPE_BYTE_GRAY)), "png", 87, 64);
  }

  @Test
  void jpegPixelsAreTheReadersBufferAndEqualTheGetRgbPath() {
    byte[] jpeg = SyntheticPhotos.jpeg(64, 48, 14, 0.9f);
    RgbImage reference = RgbImage.decode(jpeg, "ref");
    try (ImageIoRasterDecoder decoder = new ImageIoRasterDecoder()) {
      ByteRaster raster = decoder.decode(jpeg, "jpeg", ViewChoice.fullImage(), "x").raster();
      assertThat(raster.layout()).isEqualTo(ByteRaster.Layout.BGR);
      assertThat(raster.toRgbImage()).isEqualTo(reference);
    }
  }

  @Test
  void paletteAndSixteenBitImagesAreConvertedAsTheFloatDecoderConvertsThem() throws IOException {
    BufferedImage photo = SyntheticPhotos.image(40, 30, 15);
    BufferedImage palette = convert(photo, BufferedImage.TYPE_BYTE_INDEXED);
    assertThat(palette.getColorModel()).isInstanceOf(IndexColorModel.class);
    BufferedImage gray16 = convert(photo, BufferedImage.TYPE_USHORT_GRAY);
    try (ImageIoRasterDecoder decoder = new ImageIoRasterDecoder()) {
      byte[] bytes = png(palette);
      ByteRaster raster = decoder.decode(bytes, "png", ViewChoice.fullImage(), "p").raster();
      assertThat(raster.toRgbImage()).isEqualTo(RgbImage.decode(bytes, "p"));
      bytes = png(gray16);
      raster = decoder.decode(bytes, "png", ViewChoice.fullImage(), "g").raster();
      RgbImage reference = RgbImage.decode(bytes, "g");
      for (int y = 0; y < 30; y++) {
        for (int x = 0; x < 40; x++) {
          assertThat(raster.get(1, y, x)).isEqualTo(Math.round(reference.get(1, y, x) * 255f));
        }
      }
    }
  }

  @Test
  void theViewIsChosenFromTheImageSize() {
    byte[] jpeg = SyntheticPhotos.jpeg(64, 48, 16, 0.9f);
    try (ImageIoRasterDecoder decoder = new ImageIoRasterDecoder()) {
      DecodedCrop crop =
          decoder.decode(jpeg, "jpeg", (w, h) -> box(w / 4, h / 4, w / 2, h / 2), "x");
      assertThat(crop.view()).isEqualTo(box(16, 12, 32, 24));
      assertThat(crop.raster().width()).isEqualTo(32);
      assertThat(crop.originX()).isEqualTo(16);
    }
  }

  @Test
  void failuresNameTheImage() {
    byte[] jpeg = SyntheticPhotos.jpeg(64, 48, 17, 0.9f);
    try (ImageIoRasterDecoder decoder = new ImageIoRasterDecoder()) {
      assertThatThrownBy(
              () -> decoder.decode(new byte[] {1, 2, 3}, null, ViewChoice.fullImage(), "k/1"))
          .isInstanceOf(ImageDecodeException.class)
          .hasMessage("Cannot decode image k/1: no image reader for its bytes (3 bytes)");
      assertThatThrownBy(() -> decoder.decode(jpeg, "heic", ViewChoice.fullImage(), "k/2"))
          .isInstanceOf(ImageDecodeException.class)
          .hasMessage(
              "Cannot decode image k/2: no image reader for format 'heic' ("
                  + jpeg.length
                  + " bytes)");
      byte[] truncated = java.util.Arrays.copyOf(jpeg, 200);
      assertThatThrownBy(() -> decoder.decode(truncated, "jpeg", ViewChoice.fullImage(), "k/3"))
          .isInstanceOf(ImageDecodeException.class)
          .hasMessageStartingWith("Cannot decode image k/3: ");
      assertThatThrownBy(
              () -> decoder.decode(jpeg, "jpeg", ViewChoice.of(box(60, 0, 10, 10)), "k/4"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("must lie inside the 64 x 48 image");
      // The decoder still decodes after failures.
      assertThat(decoder.decode(jpeg, "jpeg", ViewChoice.fullImage(), "k/5").raster().width())
          .isEqualTo(64);
    }
  }
}

package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteRasterTest {
  @Test
  void layoutsPlaceRedGreenAndBlueWhereTheDecoderWroteThem() {
    byte[] bgr = {10, 20, 30, 40, 50, 60};
    ByteRaster raster = new ByteRaster(2, 1, ByteRaster.Layout.BGR, bgr);
    assertThat(raster.get(0, 0, 0)).isEqualTo(30);
    assertThat(raster.get(2, 0, 1)).isEqualTo(40);
    byte[] abgr = {(byte) 255, 1, 2, (byte) 200};
    ByteRaster a = new ByteRaster(1, 1, ByteRaster.Layout.ABGR, abgr);
    assertThat(new int[] {a.get(0, 0, 0), a.get(1, 0, 0), a.get(2, 0, 0)})
        .containsExactly(200, 2, 1);
    ByteRaster gray = new ByteRaster(1, 1, ByteRaster.Layout.GRAY_ALPHA, new byte[] {77, 0});
    assertThat(gray.toRgbImage().pixels()).containsExactly(77 / 255f, 77 / 255f, 77 / 255f);
  }

  @Test
  void equalityComparesThePixelsNotTheBytesPastThem() {
    ByteRaster a = new ByteRaster(1, 2, ByteRaster.Layout.GRAY, new byte[] {1, 2, 99});
    ByteRaster b = new ByteRaster(1, 2, ByteRaster.Layout.GRAY, new byte[] {1, 2});
    ByteRaster c = new ByteRaster(1, 2, ByteRaster.Layout.GRAY, new byte[] {1, 3});
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(c);
  }

  @Test
  void sizeLayoutAndDataAreChecked() {
    assertThatThrownBy(() -> new ByteRaster(0, 1, ByteRaster.Layout.RGB, new byte[3]))
        .hasMessage("Raster size must be at least 1 x 1, cannot be: 0 x 1");
    assertThatThrownBy(() -> new ByteRaster(2, 2, ByteRaster.Layout.RGB, new byte[11]))
        .hasMessage("Data of a 2 x 2 RGB raster must have at least 12 bytes, cannot be: 11");
    assertThatThrownBy(() -> new ByteRaster(2, 2, null, new byte[12]))
        .hasMessage("Raster layout must be given, cannot be: null");
  }
}

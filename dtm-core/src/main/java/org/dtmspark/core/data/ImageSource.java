package org.dtmspark.core.data;

import java.util.Objects;

/**
 * Where the pixels of one sample come from: the encoded bytes of a file (decoded by the loader's
 * {@link RasterDecoder}, only the region the view needs where the codec allows) or an image already
 * decoded. Every source carries an id (an image key, a shard path and key, a dataset index) that
 * errors name.
 */
public sealed interface ImageSource {
  /** Names the sample in error messages. */
  String id();

  /** An encoded image (the file's bytes). */
  static ImageSource encoded(String id, byte[] bytes, String format) {
    return new Encoded(id, bytes, format);
  }

  /** An image decoded to floats, rendered as it is. */
  static ImageSource decoded(String id, RgbImage image) {
    return new Decoded(id, image);
  }

  /** An image decoded to 8-bit samples. */
  static ImageSource raster(String id, ByteRaster raster) {
    return new Raster(id, raster);
  }

  /**
   * The bytes of an image file.
   *
   * @param id names the sample in errors
   * @param bytes the whole file, not copied
   * @param format the format name as stored with the bytes ({@code jpeg}, {@code png}, ...,
   *     compared without case), or null to recognise it from the bytes
   */
  record Encoded(String id, byte[] bytes, String format) implements ImageSource {
    public Encoded {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(bytes, () -> "Bytes of image " + id + " must be given");
    }

    @Override
    public String toString() {
      return "Encoded[" + id + ", " + bytes.length + " bytes, " + format + "]";
    }
  }

  /**
   * A float image.
   *
   * @param id names the sample in errors
   * @param image the pixels
   */
  record Decoded(String id, RgbImage image) implements ImageSource {
    public Decoded {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(image, () -> "Pixels of image " + id + " must be given");
    }
  }

  /**
   * An 8-bit image.
   *
   * @param id names the sample in errors
   * @param raster the pixels
   */
  record Raster(String id, ByteRaster raster) implements ImageSource {
    public Raster {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(raster, () -> "Pixels of image " + id + " must be given");
    }
  }
}

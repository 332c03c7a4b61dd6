package org.dtmspark.core.data;

/**
 * Decodes encoded images into {@link ByteRaster}s, reading the header first so that the view can be
 * chosen from the image's size and only the region it needs decoded, where the codec can do that
 * without changing a pixel.
 *
 * <p>An instance may keep codec state (reusable readers) and is used by one thread at a time; a
 * {@link LoaderPool} makes one per worker from a factory and closes it when the pool closes.
 */
public interface RasterDecoder extends AutoCloseable {
  /**
   * Decodes one image.
   *
   * @param bytes the encoded file
   * @param format the format stored with the bytes ({@code jpeg}, {@code png}, ... without case),
   *     or null to recognise it from the bytes
   * @param view chooses the view from the image's size
   * @param sourceName names the image in errors
   * @return the chosen view and a raster holding its crop box
   * @throws ImageDecodeException naming {@code sourceName} when the bytes cannot be decoded
   * @throws IllegalArgumentException when the chosen view's crop box does not fit in the image
   */
  DecodedCrop decode(byte[] bytes, String format, ViewChoice view, String sourceName);

  /** Releases the codec state; the decoder is not used afterwards. */
  @Override
  void close();
}

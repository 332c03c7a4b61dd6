package org.dtmspark.data.image;

import java.util.Locale;
import java.util.Optional;
import org.dtmspark.core.data.DecodedCrop;
import org.dtmspark.core.data.ImageIoRasterDecoder;
import org.dtmspark.core.data.RasterDecoder;
import org.dtmspark.core.data.ViewChoice;

/**
 * The {@link RasterDecoder} for images stored in shards, with the plug-ins sharding inspects them
 * with ({@link Codecs}): TwelveMonkeys' JPEG reader, so CMYK and YCCK JPEGs (and embedded ICC
 * profiles) decode to sRGB as they do at sharding, and the JDK's readers for the other formats.
 *
 * <p>The format is taken from the bytes' magic numbers ({@link ImageFormat#sniff}), not from the
 * name stored with them, so a PNG stored as {@code jpeg} (a misnamed file) still decodes; bytes of
 * no known format are an error naming the image. Only the view's crop box is decoded for JPEG and
 * PNG (see {@link ImageIoRasterDecoder}). One instance per loader thread: pass {@code
 * ShardRasterDecoder::new} to a {@link org.dtmspark.core.data.LoaderPool}.
 */
public final class ShardRasterDecoder implements RasterDecoder {
  private final ImageIoRasterDecoder decoder;

  /** A decoder that decodes only the crop box where the format allows. */
  public ShardRasterDecoder() {
    this(true);
  }

  /**
   * A decoder.
   *
   * @param regions whether to decode only the crop box where the format allows (false decodes whole
   *     images, for comparisons)
   */
  public ShardRasterDecoder(boolean regions) {
    this.decoder = new ImageIoRasterDecoder(ShardRasterDecoder::reader, regions);
  }

  private static javax.imageio.spi.ImageReaderSpi reader(String format) {
    for (ImageFormat f : ImageFormat.values()) {
      if (f.lowerCaseName().equals(format)) {
        return Codecs.reader(f);
      }
    }
    return null;
  }

  /**
   * Decodes one image.
   *
   * @param format the format stored with the bytes; the bytes' own format wins when they differ
   */
  @Override
  public DecodedCrop decode(byte[] bytes, String format, ViewChoice view, String sourceName) {
    Optional<ImageFormat> sniffed = ImageFormat.sniff(bytes);
    String name =
        sniffed
            .map(ImageFormat::lowerCaseName)
            .orElse(format == null ? "unknown" : format.toLowerCase(Locale.ROOT));
    return decoder.decode(bytes, name, view, sourceName);
  }

  @Override
  public void close() {
    decoder.close();
  }
}

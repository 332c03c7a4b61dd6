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
 *
 * <p><b>Plain JPEGs go to the JDK's reader directly.</b> TwelveMonkeys' reader hands a JPEG with
 * one component, or three with the ids 1, 2, 3 of JFIF's YCbCr, and with neither an Adobe APP14
 * segment nor an ICC profile, to the JDK's reader, but costs 15-30 % more time on the way (measured
 * on 500 x 375 photos, region decode). Such files, which a header walk up to the first scan
 * recognises ({@link #isPlainJpeg}), are decoded by the JDK's reader; the pixels are the same
 * (tested); every other JPEG goes through TwelveMonkeys.
 */
public final class ShardRasterDecoder implements RasterDecoder {
  private static final int SOF0 = 0xC0;
  private static final int SOF2 = 0xC2;
  private static final int SOF15 = 0xCF;
  private static final int DHT = 0xC4;
  private static final int JPG = 0xC8;
  private static final int DAC = 0xCC;
  private static final int RST0 = 0xD0;
  private static final int RST7 = 0xD7;
  private static final int SOI = 0xD8;
  private static final int SOS = 0xDA;
  private static final int APP2 = 0xE2;
  private static final int APP14 = 0xEE;
  private static final int TEM = 0x01;

  private final ImageIoRasterDecoder decoder;
  private final ImageIoRasterDecoder plainJpegDecoder;

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
    this.plainJpegDecoder =
        new ImageIoRasterDecoder(
            format -> format.equals("jpeg") ? Codecs.JDK_JPEG_READER : null, regions);
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
    if (sniffed.isPresent() && sniffed.get() == ImageFormat.JPEG && isPlainJpeg(bytes)) {
      return plainJpegDecoder.decode(bytes, name, view, sourceName);
    }
    return decoder.decode(bytes, name, view, sourceName);
  }

  /**
   * Whether the segments before the first scan show a plain JPEG: a Huffman-coded baseline,
   * extended or progressive frame header with one component, or three with ids 1, 2, 3; no Adobe
   * APP14 segment; no ICC profile (APP2 {@code ICC_PROFILE}). False for anything else, including
   * headers cut short.
   */
  static boolean isPlainJpeg(byte[] b) {
    int n = b.length;
    int pos = 2;
    boolean plainFrame = false;
    while (true) {
      while (pos < n && b[pos] != (byte) 0xFF) {
        pos++;
      }
      while (pos + 1 < n && b[pos + 1] == (byte) 0xFF) {
        pos++;
      }
      if (pos + 3 >= n) {
        return false;
      }
      int marker = b[pos + 1] & 0xFF;
      pos += 2;
      if (marker == SOI || marker == TEM || (marker >= RST0 && marker <= RST7) || marker == 0) {
        continue;
      }
      if (marker == SOS) {
        return plainFrame;
      }
      int length = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
      if (length < 2 || pos + length > n) {
        return false;
      }
      if (marker == APP14 || (marker == APP2 && startsWith(b, pos + 2, "ICC_PROFILE"))) {
        return false;
      }
      boolean frame =
          marker >= SOF0 && marker <= SOF15 && marker != DHT && marker != JPG && marker != DAC;
      if (frame) {
        if (length < 8) {
          return false;
        }
        int components = b[pos + 7] & 0xFF;
        // Huffman-coded baseline, extended or progressive; the JDK reads no arithmetic coding.
        boolean ycbcr =
            components == 3
                && length >= 8 + 9
                && b[pos + 8] == 1
                && b[pos + 11] == 2
                && b[pos + 14] == 3;
        plainFrame = marker <= SOF2 && (components == 1 || ycbcr);
      }
      pos += length;
    }
  }

  private static boolean startsWith(byte[] b, int at, String ascii) {
    if (at + ascii.length() > b.length) {
      return false;
    }
    for (int i = 0; i < ascii.length(); i++) {
      if (b[at + i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    try {
      decoder.close();
    } finally {
      plainJpegDecoder.close();
    }
  }
}

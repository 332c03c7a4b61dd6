package org.dtmspark.data.image;

import java.util.Locale;

/**
 * What a walk over a JPEG's markers finds, without decoding: whether the file reaches its
 * end-of-image marker, the number of colour components and the Adobe colour transform.
 *
 * <p>The walk follows segment lengths from the start-of-image marker and scans entropy-coded data
 * for the next marker (skipping stuffed {@code FF 00}, restart markers and fill bytes), so an
 * {@code FF D9} inside an embedded thumbnail does not count, and bytes after the end-of-image
 * marker (padding that some writers append) are allowed. Stray bytes between segments are skipped
 * as libjpeg does.
 *
 * @param components number of components in the first frame header (1 gray, 3 YCbCr or RGB, 4 CMYK
 *     or YCCK); 0 when the walk found no frame header
 * @param adobeTransform the transform flag of the first Adobe APP14 segment (0 none, so RGB or
 *     CMYK; 1 YCbCr; 2 YCCK), or -1 when there is none
 * @param problem why the file is incomplete, for example {@code "no end-of-image marker FF D9"};
 *     null when the walk reached the end-of-image marker
 */
record JpegLayout(int components, int adobeTransform, String problem) {
  private static final int SOF0 = 0xC0;
  private static final int SOF15 = 0xCF;
  private static final int DHT = 0xC4;
  private static final int JPG = 0xC8;
  private static final int DAC = 0xCC;
  private static final int RST0 = 0xD0;
  private static final int RST7 = 0xD7;
  private static final int SOI = 0xD8;
  private static final int EOI = 0xD9;
  private static final int SOS = 0xDA;
  private static final int APP14 = 0xEE;
  private static final int TEM = 0x01;

  /** Whether the walk reached the end-of-image marker. */
  boolean complete() {
    return problem == null;
  }

  /** Walks {@code b}, which must start with the JPEG magic {@code FF D8 FF}. */
  static JpegLayout scan(byte[] b) {
    int n = b.length;
    int components = 0;
    int adobeTransform = -1;
    int pos = 2;
    while (true) {
      // Find the next marker: skip stray bytes and FF fill bytes.
      while (pos < n && b[pos] != (byte) 0xFF) {
        pos++;
      }
      while (pos + 1 < n && b[pos + 1] == (byte) 0xFF) {
        pos++;
      }
      if (pos + 1 >= n) {
        return new JpegLayout(components, adobeTransform, "no end-of-image marker FF D9");
      }
      int markerAt = pos;
      int marker = b[pos + 1] & 0xFF;
      pos += 2;
      if (marker == EOI) {
        return new JpegLayout(components, adobeTransform, null);
      }
      if (marker == SOI || marker == TEM || (marker >= RST0 && marker <= RST7) || marker == 0) {
        continue;
      }
      if (pos + 2 > n) {
        return new JpegLayout(components, adobeTransform, cutSegment(marker, markerAt));
      }
      int length = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
      if (length < 2) {
        return new JpegLayout(
            components,
            adobeTransform,
            String.format(
                Locale.ROOT,
                "segment FF%02X at offset %d has invalid length %d",
                marker,
                markerAt,
                length));
      }
      if (pos + length > n) {
        return new JpegLayout(components, adobeTransform, cutSegment(marker, markerAt));
      }
      boolean frame =
          marker >= SOF0 && marker <= SOF15 && marker != DHT && marker != JPG && marker != DAC;
      if (frame && components == 0 && length >= 8) {
        components = b[pos + 7] & 0xFF;
      }
      if (marker == APP14 && adobeTransform < 0 && length >= 14 && isAdobe(b, pos + 2)) {
        adobeTransform = b[pos + 13] & 0xFF;
      }
      pos += length;
      if (marker == SOS) {
        pos = endOfEntropyCodedData(b, pos);
      }
    }
  }

  private static boolean isAdobe(byte[] b, int at) {
    return b[at] == 'A'
        && b[at + 1] == 'd'
        && b[at + 2] == 'o'
        && b[at + 3] == 'b'
        && b[at + 4] == 'e';
  }

  /** Offset of the first marker after entropy-coded data starting at {@code pos}, or the end. */
  private static int endOfEntropyCodedData(byte[] b, int pos) {
    int n = b.length;
    while (pos + 1 < n) {
      if (b[pos] != (byte) 0xFF) {
        pos++;
        continue;
      }
      int next = b[pos + 1] & 0xFF;
      if (next == 0 || (next >= RST0 && next <= RST7)) {
        pos += 2;
      } else if (next == 0xFF) {
        pos++;
      } else {
        return pos;
      }
    }
    return n;
  }

  private static String cutSegment(int marker, int offset) {
    return String.format(
        Locale.ROOT, "segment FF%02X at offset %d runs past the end of the file", marker, offset);
  }
}

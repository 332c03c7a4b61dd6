package org.dtmspark.data.image;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Walks a PNG's chunks without decoding: every chunk must fit in the file, critical chunks (type
 * starting with an upper-case letter) must carry a correct CRC, and an {@code IEND} chunk must end
 * the walk. Bytes after {@code IEND} are allowed. Ancillary chunks with a wrong CRC are let
 * through, as libpng does by default.
 */
final class PngChunks {
  private static final int SIGNATURE_LENGTH = 8;

  private PngChunks() {}

  /**
   * Why {@code b} is not a complete PNG, as a full reject reason, or null when it is complete.
   * {@code b} must start with the PNG signature.
   */
  static String problem(byte[] b) {
    int n = b.length;
    long pos = SIGNATURE_LENGTH;
    CRC32 crc = new CRC32();
    while (true) {
      if (pos + 8 > n) {
        return "truncated PNG (no IEND chunk)";
      }
      int at = (int) pos;
      long length = readInt(b, at) & 0xFFFFFFFFL;
      String type = new String(b, at + 4, 4, StandardCharsets.ISO_8859_1);
      if (pos + 12 + length > n) {
        return "truncated PNG (chunk "
            + printable(type)
            + " at offset "
            + at
            + " runs past the end of the file)";
      }
      int dataLength = (int) length;
      if (Character.isUpperCase(type.charAt(0))) {
        crc.reset();
        crc.update(b, at + 4, 4 + dataLength);
        long stored = readInt(b, at + 8 + dataLength) & 0xFFFFFFFFL;
        if (crc.getValue() != stored) {
          return "undecodable PNG: CRC mismatch in chunk " + printable(type) + " at offset " + at;
        }
      }
      if (type.equals("IEND")) {
        return null;
      }
      pos += 12 + length;
    }
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xFF) << 24)
        | ((b[at + 1] & 0xFF) << 16)
        | ((b[at + 2] & 0xFF) << 8)
        | (b[at + 3] & 0xFF);
  }

  private static String printable(String type) {
    StringBuilder s = new StringBuilder(type.length());
    for (char c : type.toCharArray()) {
      s.append(c >= 0x20 && c < 0x7F ? c : '?');
    }
    return s.toString();
  }
}

package org.dtmspark.data.image;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Image file formats recognised by their magic bytes.
 *
 * <p>Only the first bytes of a file are needed: {@link #MAGIC_LENGTH} are enough for every format.
 * A match says what the file claims to be, not that it decodes; {@link ImageInspector} decodes it.
 */
public enum ImageFormat {
  /** {@code FF D8 FF}. */
  JPEG("jpg", "jpeg", "jpe", "jfif"),
  /** {@code 89 50 4E 47 0D 0A 1A 0A}. */
  PNG("png"),
  /** {@code GIF87a} or {@code GIF89a}. */
  GIF("gif"),
  /** {@code BM}. */
  BMP("bmp", "dib"),
  /** {@code RIFF}, four bytes of size, {@code WEBP}. */
  WEBP("webp"),
  /** {@code II*\0} (little-endian) or {@code MM\0*} (big-endian). */
  TIFF("tif", "tiff");

  /** Number of leading bytes {@link #sniff} looks at; fewer are fine for short files. */
  public static final int MAGIC_LENGTH = 12;

  private static final byte[] JPEG_MAGIC = bytes(0xFF, 0xD8, 0xFF);
  private static final byte[] PNG_MAGIC = bytes(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A);
  private static final byte[] GIF87_MAGIC = bytes('G', 'I', 'F', '8', '7', 'a');
  private static final byte[] GIF89_MAGIC = bytes('G', 'I', 'F', '8', '9', 'a');
  private static final byte[] BMP_MAGIC = bytes('B', 'M');
  private static final byte[] RIFF_MAGIC = bytes('R', 'I', 'F', 'F');
  private static final byte[] WEBP_MAGIC = bytes('W', 'E', 'B', 'P');
  private static final byte[] TIFF_LE_MAGIC = bytes('I', 'I', 0x2A, 0x00);
  private static final byte[] TIFF_BE_MAGIC = bytes('M', 'M', 0x00, 0x2A);

  private final List<String> extensions;

  ImageFormat(String... extensions) {
    this.extensions = List.of(extensions);
  }

  /** File name extensions (lower case, without the dot) that name this format. */
  public List<String> extensions() {
    return extensions;
  }

  /** The lower-case name used in reasons, for example {@code "png"}. */
  public String lowerCaseName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The format whose magic bytes start {@code head}, if any.
   *
   * @param head the first bytes of a file (at least {@link #MAGIC_LENGTH} when the file has them; a
   *     longer array, such as the whole file, is fine)
   */
  public static Optional<ImageFormat> sniff(byte[] head) {
    if (startsWith(head, 0, JPEG_MAGIC)) {
      return Optional.of(JPEG);
    }
    if (startsWith(head, 0, PNG_MAGIC)) {
      return Optional.of(PNG);
    }
    if (startsWith(head, 0, GIF87_MAGIC) || startsWith(head, 0, GIF89_MAGIC)) {
      return Optional.of(GIF);
    }
    if (startsWith(head, 0, BMP_MAGIC)) {
      return Optional.of(BMP);
    }
    if (startsWith(head, 0, RIFF_MAGIC) && startsWith(head, 8, WEBP_MAGIC)) {
      return Optional.of(WEBP);
    }
    if (startsWith(head, 0, TIFF_LE_MAGIC) || startsWith(head, 0, TIFF_BE_MAGIC)) {
      return Optional.of(TIFF);
    }
    return Optional.empty();
  }

  /**
   * The format that a file name's extension claims, compared without case ({@code x.JPEG} claims
   * {@link #JPEG}); empty when the name has no extension or an extension of no known format.
   *
   * @param fileName a file name or a path with {@code /} or {@code \} separators
   */
  public static Optional<ImageFormat> fromFileName(String fileName) {
    String extension = extension(fileName).toLowerCase(Locale.ROOT);
    for (ImageFormat format : values()) {
      if (format.extensions.contains(extension)) {
        return Optional.of(format);
      }
    }
    return Optional.empty();
  }

  /** The extension of the last path element as written (without the dot), or {@code ""}. */
  static String extension(String fileName) {
    int slash = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
    int dot = fileName.lastIndexOf('.');
    return dot > slash + 1 ? fileName.substring(dot + 1) : "";
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  private static boolean startsWith(byte[] data, int offset, byte[] expected) {
    if (data.length < offset + expected.length) {
      return false;
    }
    for (int i = 0; i < expected.length; i++) {
      if (data[offset + i] != expected[i]) {
        return false;
      }
    }
    return true;
  }
}

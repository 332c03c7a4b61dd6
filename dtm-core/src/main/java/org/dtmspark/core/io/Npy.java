package org.dtmspark.core.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader and writer of NumPy {@code .npy} files holding floats.
 *
 * <p>Format: the magic {@code \x93NUMPY}, a major and a minor version byte, the header length
 * (unsigned little-endian, 2 bytes in version 1.0, 4 bytes in 2.0 and 3.0), then an ASCII Python
 * dict literal such as {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }} padded
 * with spaces and ended by a newline so that the data starts at a multiple of 64, then the raw
 * data. This class writes {@code <f4} in C order (version 1.0, or 2.0 for a header over 65535
 * bytes) and reads little-endian {@code <f4} and {@code <f8} (narrowed to float) in C order.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGNMENT = 64;

  private Npy() {}

  /**
   * Reads a float array.
   *
   * @throws IOException naming the file on a bad magic, an unsupported version or dtype (with its
   *     descr), Fortran order, a malformed header or truncated data
   */
  public static NpyArray read(Path path) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
      return read(in, path.toString());
    }
  }

  private static NpyArray read(InputStream in, String source) throws IOException {
    byte[] preamble = in.readNBytes(MAGIC.length + 2);
    if (preamble.length < MAGIC.length + 2
        || !Arrays.equals(preamble, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new IOException("Not a .npy file (bad magic, expected \\x93NUMPY): " + source);
    }
    int major = preamble[6] & 0xff;
    int minor = preamble[7] & 0xff;
    int lengthBytes;
    if (major == 1) {
      lengthBytes = 2;
    } else if (major == 2 || major == 3) {
      lengthBytes = 4;
    } else {
      throw new IOException(
          "Unsupported .npy version " + major + "." + minor + " in " + source + "; supported: 1-3");
    }
    byte[] lengthField = in.readNBytes(lengthBytes);
    if (lengthField.length < lengthBytes) {
      throw new IOException(".npy file " + source + " is truncated in its header length");
    }
    ByteBuffer lb = ByteBuffer.wrap(lengthField).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = lengthBytes == 2 ? lb.getShort() & 0xffffL : lb.getInt() & 0xffffffffL;
    if (headerLength > 100L * 1024 * 1024) {
      throw new IOException(
          ".npy header length in "
              + source
              + " must be at most 100 MB, cannot be: "
              + headerLength);
    }
    byte[] headerBytes = in.readNBytes((int) headerLength);
    if (headerBytes.length < headerLength) {
      throw new IOException(
          ".npy file "
              + source
              + " is truncated in its header: expected "
              + headerLength
              + " bytes, found "
              + headerBytes.length);
    }
    String header =
        new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Map<String, Object> dict;
    try {
      dict = new HeaderParser(header).parseDict();
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "Malformed .npy header in " + source + ": " + e.getMessage() + " in: " + header.trim(),
          e);
    }
    Object descr = dict.get("descr");
    Object fortran = dict.get("fortran_order");
    Object shapeValue = dict.get("shape");
    if (!(descr instanceof String)
        || !(fortran instanceof Boolean)
        || !(shapeValue instanceof List)) {
      throw new IOException(
          "Malformed .npy header in "
              + source
              + ": needs 'descr' (string), 'fortran_order' (bool) and 'shape' (tuple), found: "
              + header.trim());
    }
    if ((Boolean) fortran) {
      throw new IOException(
          "Unsupported .npy layout in " + source + ": fortran_order True; only C order is read");
    }
    int itemSize;
    if (descr.equals("<f4")) {
      itemSize = 4;
    } else if (descr.equals("<f8")) {
      itemSize = 8;
    } else {
      throw new IOException(
          "Unsupported .npy dtype '"
              + descr
              + "' in "
              + source
              + "; supported: '<f4', '<f8' (little-endian float32, float64)");
    }
    @SuppressWarnings("unchecked")
    List<Long> dims = (List<Long>) shapeValue;
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long numel = TensorData.numel(shape);
    if (numel > Integer.MAX_VALUE - 8) {
      throw new IOException(".npy array in " + source + " is too large to load: " + numel);
    }
    long byteCount = numel * itemSize;
    if (byteCount > Integer.MAX_VALUE - 8) {
      throw new IOException(".npy array in " + source + " is too large to load: " + byteCount);
    }
    byte[] bytes = in.readNBytes((int) byteCount);
    if (bytes.length < byteCount) {
      throw new IOException(
          ".npy file "
              + source
              + " is truncated: shape "
              + Arrays.toString(shape)
              + " needs "
              + byteCount
              + " data bytes, found "
              + bytes.length);
    }
    if (in.read() != -1) {
      throw new IOException(
          ".npy file " + source + " has data beyond the " + byteCount + " bytes of its shape");
    }
    ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[(int) numel];
    if (itemSize == 4) {
      data.asFloatBuffer().get(values);
    } else {
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) data.getDouble(8 * i);
      }
    }
    return new NpyArray(shape, values);
  }

  /**
   * Writes {@code data} with {@code shape} as a {@code <f4} C-order .npy file, atomically.
   *
   * @param shape dimensions; their product must equal {@code data.length}
   * @param data values, row-major
   */
  public static void write(Path path, long[] shape, float[] data) throws IOException {
    NpyArray array = new NpyArray(shape, data);
    StringBuilder dict = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape.length; i++) {
      dict.append(i > 0 ? ", " : "").append(shape[i]);
    }
    dict.append(shape.length == 1 ? ",), }" : "), }");
    int major = 1;
    int prefix = MAGIC.length + 2 + 2;
    int total = (prefix + dict.length() + 1 + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    if (total - prefix > 0xffff) {
      major = 2;
      prefix = MAGIC.length + 2 + 4;
      total = (prefix + dict.length() + 1 + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }
    dict.append(" ".repeat(total - prefix - dict.length() - 1)).append('\n');
    byte[] header = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer buf = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(MAGIC).put((byte) major).put((byte) 0);
    if (major == 1) {
      buf.putShort((short) header.length);
    } else {
      buf.putInt(header.length);
    }
    buf.put(header);
    ByteBuffer values = ByteBuffer.allocate(Math.multiplyExact(data.length, 4));
    values.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(array.data());
    AtomicFiles.writeAtomically(
        path,
        out -> {
          out.write(buf.array());
          out.write(values.array());
        });
  }

  /** Parses the subset of Python literals a .npy header uses: str, bool, int tuples. */
  private static final class HeaderParser {
    private final String s;
    private int pos;

    HeaderParser(String s) {
      this.s = s;
    }

    Map<String, Object> parseDict() {
      Map<String, Object> out = new LinkedHashMap<>();
      expect('{');
      while (true) {
        skipSpace();
        if (peek() == '}') {
          pos++;
          break;
        }
        String key = parseString();
        expect(':');
        Object value = parseValue();
        if (out.put(key, value) != null) {
          throw new IllegalArgumentException("duplicate key '" + key + "'");
        }
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != '}') {
          throw new IllegalArgumentException("expected ',' or '}' at offset " + pos);
        }
      }
      skipSpace();
      if (pos != s.length()) {
        throw new IllegalArgumentException("unexpected text after the dict at offset " + pos);
      }
      return out;
    }

    private Object parseValue() {
      skipSpace();
      char c = peek();
      if (c == '\'' || c == '"') {
        return parseString();
      }
      if (c == '(') {
        return parseTuple();
      }
      if (s.startsWith("True", pos)) {
        pos += 4;
        return Boolean.TRUE;
      }
      if (s.startsWith("False", pos)) {
        pos += 5;
        return Boolean.FALSE;
      }
      throw new IllegalArgumentException("unsupported value at offset " + pos);
    }

    private List<Long> parseTuple() {
      expect('(');
      List<Long> out = new ArrayList<>();
      while (true) {
        skipSpace();
        if (peek() == ')') {
          pos++;
          return out;
        }
        int start = pos;
        while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
          pos++;
        }
        if (start == pos) {
          throw new IllegalArgumentException("expected a non-negative integer at offset " + pos);
        }
        try {
          out.add(Long.parseLong(s.substring(start, pos)));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("integer too large at offset " + start, e);
        }
        // Python 2 era writers append an L to longs.
        if (pos < s.length() && s.charAt(pos) == 'L') {
          pos++;
        }
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != ')') {
          throw new IllegalArgumentException("expected ',' or ')' at offset " + pos);
        }
      }
    }

    private String parseString() {
      skipSpace();
      char quote = peek();
      if (quote != '\'' && quote != '"') {
        throw new IllegalArgumentException("expected a quoted string at offset " + pos);
      }
      int end = s.indexOf(quote, pos + 1);
      if (end < 0) {
        throw new IllegalArgumentException("unterminated string at offset " + pos);
      }
      String value = s.substring(pos + 1, end);
      pos = end + 1;
      return value;
    }

    private void expect(char c) {
      skipSpace();
      if (peek() != c) {
        throw new IllegalArgumentException("expected '" + c + "' at offset " + pos);
      }
      pos++;
    }

    private char peek() {
      if (pos >= s.length()) {
        throw new IllegalArgumentException("unexpected end of header");
      }
      return s.charAt(pos);
    }

    private void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }
  }
}

package org.dtmspark.data.plan;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/** Builds small input trees and tar archives for the tests. */
final class InputTrees {
  private InputTrees() {}

  /** The local Hadoop filesystem. */
  static FileSystem localFs() throws IOException {
    return FileSystem.getLocal(new Configuration());
  }

  /** The Hadoop path of a local path. */
  static org.apache.hadoop.fs.Path hadoop(Path path) {
    return new org.apache.hadoop.fs.Path(path.toAbsolutePath().toString());
  }

  /** The location the scanner gives a local file: its qualified Hadoop path. */
  static String location(Path path) throws IOException {
    return localFs().makeQualified(hadoop(path)).toString();
  }

  /** Distinct, deterministic bytes of length {@code size} (not a multiple of 512 in general). */
  static byte[] bytes(String seed, int size) {
    byte[] b = new byte[size];
    int h = seed.hashCode();
    for (int i = 0; i < size; i++) {
      h = h * 31 + i;
      b[i] = (byte) (h >>> 13);
    }
    return b;
  }

  /** Writes {@code content} at {@code root/relative}, creating directories. */
  static Path write(Path root, String relative, byte[] content) throws IOException {
    Path file = root.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.write(file, content);
    return file;
  }

  /** Writes text at {@code root/relative}. */
  static Path write(Path root, String relative, String text) throws IOException {
    return write(root, relative, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A tar holding {@code members} (name to bytes) in the given order, written here byte by byte
   * (POSIX ustar headers; a GNU {@code ././@LongLink} entry before a name over 100 bytes; names
   * ending in {@code /} are directories, values {@code null} symbolic links), independently of the
   * reader under test. (commons-compress's own writer needs commons-lang3, which DJL excludes.)
   */
  static byte[] tar(Map<String, byte[]> members) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> member : members.entrySet()) {
      byte[] name = member.getKey().getBytes(StandardCharsets.UTF_8);
      byte[] data = member.getValue() == null ? new byte[0] : member.getValue();
      char type = member.getValue() == null ? '2' : member.getKey().endsWith("/") ? '5' : '0';
      if (name.length > 100) {
        byte[] longName = Arrays.copyOf(name, name.length + 1);
        writeEntry(out, "././@LongLink".getBytes(StandardCharsets.US_ASCII), 'L', longName);
        name = Arrays.copyOf(name, 100);
      }
      writeEntry(out, name, type, data);
    }
    out.write(new byte[2 * 512]);
    return out.toByteArray();
  }

  private static void writeEntry(ByteArrayOutputStream out, byte[] name, char type, byte[] data) {
    byte[] header = new byte[512];
    System.arraycopy(name, 0, header, 0, name.length);
    octal(header, 100, 8, 0644);
    octal(header, 108, 8, 0);
    octal(header, 116, 8, 0);
    octal(header, 124, 12, data.length);
    octal(header, 136, 12, 1_700_000_000L);
    header[156] = (byte) type;
    if (type == '2') {
      byte[] target = "elsewhere.JPEG".getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(target, 0, header, 157, target.length);
    }
    byte[] magic = "ustar\0".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, header, 257, magic.length);
    header[263] = '0';
    header[264] = '0';
    Arrays.fill(header, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : header) {
      sum += b & 0xFF;
    }
    octal(header, 148, 7, sum);
    out.write(header, 0, 512);
    out.write(data, 0, data.length);
    out.write(new byte[(512 - data.length % 512) % 512], 0, (512 - data.length % 512) % 512);
  }

  /** {@code value} as {@code length - 1} octal digits and a NUL at {@code offset}. */
  private static void octal(byte[] header, int offset, int length, long value) {
    String digits = Long.toOctalString(value);
    String padded = "0".repeat(length - 1 - digits.length()) + digits;
    byte[] ascii = padded.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(ascii, 0, header, offset, ascii.length);
    header[offset + length - 1] = 0;
  }

  /** An ordered map of members. */
  static Map<String, byte[]> members(Object... nameThenBytes) {
    Map<String, byte[]> members = new LinkedHashMap<>();
    for (int i = 0; i < nameThenBytes.length; i += 2) {
      members.put((String) nameThenBytes[i], (byte[]) nameThenBytes[i + 1]);
    }
    return members;
  }
}

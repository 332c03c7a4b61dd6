package org.dtmspark.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
  @TempDir Path tmp;

  /** A .npy file built by hand: magic, version, header length, header, data. */
  private static byte[] handBuilt(int major, String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
    int lengthBytes = major == 1 ? 2 : 4;
    ByteBuffer b =
        ByteBuffer.allocate(8 + lengthBytes + h.length + data.length)
            .order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) {
      b.putShort((short) h.length);
    } else {
      b.putInt(h.length);
    }
    return b.put(h).put(data).array();
  }

  private Path file(String name, byte[] content) throws IOException {
    Path p = tmp.resolve(name);
    Files.write(p, content);
    return p;
  }

  @Test
  void roundTripKeepsShapeAndValues() throws IOException {
    float[] values = {0f, -1.5f, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 1e-20f};
    Path p = tmp.resolve("a.npy");
    Npy.write(p, new long[] {2, 3}, values);
    NpyArray back = Npy.read(p);
    assertThat(back.shape()).containsExactly(2, 3);
    assertThat(back.data()).containsExactly(values);
    assertThat(back).isEqualTo(new NpyArray(new long[] {2, 3}, values));
  }

  @Test
  void writtenHeaderIsWhatNumpyWrites() throws IOException {
    Path p = tmp.resolve("b.npy");
    Npy.write(p, new long[] {2, 3}, new float[6]);
    byte[] bytes = Files.readAllBytes(p);
    assertThat(Arrays.copyOf(bytes, 8)).containsExactly((byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0);
    int headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
    assertThat((10 + headerLength) % 64).isZero();
    assertThat(bytes).hasSize(10 + headerLength + 24);
    String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
    assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    assertThat(header).endsWith(" \n");
    // numpy itself writes byte-identical files for the same array.
    byte[] numpy = Files.readAllBytes(GoldenFiles.resource("numpy-f4-2x3.npy"));
    Path mine = tmp.resolve("c.npy");
    Npy.write(mine, new long[] {2, 3}, new float[] {-1f, -0.5f, 0f, 0.5f, 1f, 1.5f});
    assertThat(Files.readAllBytes(mine)).containsExactly(numpy);
  }

  @Test
  void oneDimensionalAndScalarShapesUsePythonTupleSyntax() throws IOException {
    Path one = tmp.resolve("one.npy");
    Npy.write(one, new long[] {3}, new float[] {1, 2, 3});
    assertThat(new String(Files.readAllBytes(one), StandardCharsets.ISO_8859_1))
        .contains("'shape': (3,), }");
    assertThat(Npy.read(one).shape()).containsExactly(3);

    Path scalar = tmp.resolve("scalar.npy");
    Npy.write(scalar, new long[0], new float[] {7.25f});
    assertThat(new String(Files.readAllBytes(scalar), StandardCharsets.ISO_8859_1))
        .contains("'shape': (), }");
    assertThat(Npy.read(scalar)).isEqualTo(new NpyArray(new long[0], new float[] {7.25f}));
  }

  @Test
  void readsFilesWrittenByNumpy() throws IOException {
    assertThat(Npy.read(GoldenFiles.resource("numpy-f4-2x3.npy")))
        .isEqualTo(new NpyArray(new long[] {2, 3}, new float[] {-1f, -0.5f, 0f, 0.5f, 1f, 1.5f}));
    assertThat(Npy.read(GoldenFiles.resource("numpy-f8-3.npy")))
        .isEqualTo(
            new NpyArray(
                new long[] {3}, new float[] {(float) (1.0 / 3), -2.5f, Float.POSITIVE_INFINITY}));
    assertThat(Npy.read(GoldenFiles.resource("numpy-f4-scalar.npy")))
        .isEqualTo(new NpyArray(new long[0], new float[] {7.25f}));
  }

  @Test
  void handMadeFloat64FileIsNarrowedToFloats() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    data.putDouble(0.1).putDouble(-4.0);
    Path p =
        file(
            "f8.npy",
            handBuilt(
                1,
                "{\"descr\": \"<f8\", \"shape\": (1,2), \"fortran_order\": False}\n",
                data.array()));
    assertThat(Npy.read(p)).isEqualTo(new NpyArray(new long[] {1, 2}, new float[] {0.1f, -4f}));
  }

  @Test
  void version2HeaderIsRead() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2.5f);
    Path p =
        file(
            "v2.npy",
            handBuilt(
                2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", data.array()));
    assertThat(Npy.read(p).data()).containsExactly(2.5f);
  }

  @Test
  void badMagicNamesTheFile() throws IOException {
    Path p = file("bad.npy", "PK\u0003\u0004 not numpy".getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> Npy.read(p))
        .isInstanceOf(IOException.class)
        .hasMessage("Not a .npy file (bad magic, expected \\x93NUMPY): " + p);
  }

  @Test
  void fortranOrderIsRejectedNamingTheFile() {
    Path p = GoldenFiles.resource("numpy-f4-fortran.npy");
    assertThatThrownBy(() -> Npy.read(p))
        .hasMessage(
            "Unsupported .npy layout in " + p + ": fortran_order True; only C order is read");
  }

  @Test
  void unsupportedDtypesAreNamedWithTheirDescr() {
    Path ints = GoldenFiles.resource("numpy-i8.npy");
    assertThatThrownBy(() -> Npy.read(ints))
        .hasMessage(
            "Unsupported .npy dtype '<i8' in "
                + ints
                + "; supported: '<f4', '<f8' (little-endian float32, float64)");
    Path bigEndian = GoldenFiles.resource("numpy-f4-big-endian.npy");
    assertThatThrownBy(() -> Npy.read(bigEndian))
        .hasMessageStartingWith("Unsupported .npy dtype '>f4'");
  }

  @Test
  void truncatedDataIsReported() throws IOException {
    Path p =
        file(
            "short.npy",
            handBuilt(
                1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", new byte[12]));
    assertThatThrownBy(() -> Npy.read(p))
        .hasMessage(".npy file " + p + " is truncated: shape [2, 2] needs 16 data bytes, found 12");
    byte[] full = Files.readAllBytes(GoldenFiles.resource("numpy-f4-2x3.npy"));
    Path cut = file("cut.npy", Arrays.copyOf(full, 40));
    assertThatThrownBy(() -> Npy.read(cut))
        .hasMessage(
            ".npy file " + cut + " is truncated in its header: expected 118 bytes, found 30");
  }

  @Test
  void trailingBytesAreReported() throws IOException {
    Path p =
        file(
            "long.npy",
            handBuilt(
                1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", new byte[5]));
    assertThatThrownBy(() -> Npy.read(p))
        .hasMessage(".npy file " + p + " has data beyond the 4 bytes of its shape");
  }

  @Test
  void malformedHeadersAreReported() throws IOException {
    Path missingKey =
        file("nokey.npy", handBuilt(1, "{'descr': '<f4', 'shape': (1,), }\n", new byte[4]));
    assertThatThrownBy(() -> Npy.read(missingKey))
        .hasMessageStartingWith("Malformed .npy header in " + missingKey + ": needs 'descr'");
    Path garbage = file("garbage.npy", handBuilt(1, "{'descr': <f4}\n", new byte[4]));
    assertThatThrownBy(() -> Npy.read(garbage))
        .hasMessageStartingWith(
            "Malformed .npy header in " + garbage + ": unsupported value at offset 10");
    Path version = file("v9.npy", handBuilt(2, "{}", new byte[0]));
    Files.write(version, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 0, 0, 0, 0});
    assertThatThrownBy(() -> Npy.read(version))
        .hasMessage("Unsupported .npy version 9.0 in " + version + "; supported: 1-3");
  }

  @Test
  void writeRejectsShapeThatDoesNotMatchData() {
    assertThatThrownBy(() -> Npy.write(tmp.resolve("x.npy"), new long[] {2, 2}, new float[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Array data length must equal the number of elements 4 of shape [2, 2], cannot be: 3");
    assertThat(tmp.resolve("x.npy")).doesNotExist();
  }
}

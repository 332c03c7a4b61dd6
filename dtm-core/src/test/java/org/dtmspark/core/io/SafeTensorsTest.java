package org.dtmspark.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dtmspark.core.nn.Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
  @TempDir Path tmp;

  /** The file layout built by hand: length, JSON padded with spaces to 8, little-endian data. */
  private static byte[] handBuilt(String json, byte[] data) {
    int padded = (json.length() + 7) / 8 * 8;
    String header = json + " ".repeat(padded - json.length());
    ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
    return b.array();
  }

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  private static byte[] write(Map<String, String> metadata, Map<String, TensorData> tensors)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SafeTensors.write(out, metadata, tensors);
    return out.toByteArray();
  }

  private static SafeTensorsFile read(byte[] file) throws IOException {
    return SafeTensors.read(new ByteArrayInputStream(file), "mem.safetensors");
  }

  @Test
  void writerProducesExactlyTheHandBuiltBytes() throws IOException {
    LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
    tensors.put("a", TensorData.ofFloats(new long[] {2}, new float[] {1f, -2.5f}));
    tensors.put("b", TensorData.ofFloatsAsHalf(new long[] {1, 1}, new float[] {1f}));
    String json =
        "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F16\",\"shape\":[1,1],\"data_offsets\":[8,10]}}";
    byte[] data = bytes(0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0, 0x00, 0x3c);
    byte[] expected = handBuilt(json, data);

    assertThat(write(Map.of("format", "pt"), tensors)).containsExactly(expected);
    assertThat((expected.length - data.length - 8) % 8).isZero();
  }

  @Test
  void noMetadataMeansNoMetadataKey() throws IOException {
    LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
    tensors.put("x", new TensorData(DType.U8, new long[] {1}, new byte[] {5}));
    String json = "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    assertThat(write(Map.of(), tensors)).containsExactly(handBuilt(json, new byte[] {5}));
  }

  @Test
  void everyDtypeRoundTripsInOrderWithMetadata() throws IOException {
    Path file = tmp.resolve("all.safetensors");
    SafeTensors.write(file, GoldenFiles.tinyMetadata(), GoldenFiles.tinyTensors());
    SafeTensorsFile back = SafeTensors.read(file);
    assertThat(back.metadata()).containsExactlyEntriesOf(GoldenFiles.tinyMetadata());
    assertThat(back.tensors()).containsExactlyEntriesOf(GoldenFiles.tinyTensors());
    try (var files = Files.list(tmp)) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void goldenFileReadsBackItsValues() throws IOException {
    SafeTensorsFile golden = SafeTensors.read(GoldenFiles.resource(GoldenFiles.TINY_SAFETENSORS));
    assertThat(golden.metadata())
        .containsExactly(Map.entry("format", "dtm-spark-golden"), Map.entry("format_version", "1"));
    assertThat(golden.tensors().keySet())
        .containsExactly(
            "patch_embed.proj.weight",
            "cls_token",
            "bf",
            "f64",
            "i64",
            "i32",
            "u8",
            "mask",
            "scalar",
            "empty");
    assertThat(golden.tensor("patch_embed.proj.weight").shape()).containsExactly(2, 3);
    assertThat(golden.tensor("patch_embed.proj.weight").toFloatArray())
        .containsExactly(-1f, -0.5f, 0f, 0.5f, 1f, 1.5f);
    assertThat(golden.tensor("cls_token").dtype()).isEqualTo(DType.F16);
    assertThat(golden.tensor("cls_token").toFloatArray()).containsExactly(1.5f, -0.25f);
    assertThat(golden.tensor("bf").toFloatArray()).containsExactly(3f, -0.5f);
    assertThat(golden.tensor("f64").toFloatArray()).containsExactly((float) (1.0 / 3));
    ByteBuffer i64 = ByteBuffer.wrap(golden.tensor("i64").data()).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(i64.getLong()).isEqualTo(-1);
    assertThat(i64.getLong()).isEqualTo(1L << 40);
    assertThat(golden.tensor("u8").data()).containsExactly(0, (byte) 255);
    assertThat(golden.tensor("mask").data()).containsExactly(1, 0, 1);
    assertThat(golden.tensor("scalar").shape()).isEmpty();
    assertThat(golden.tensor("scalar").toFloatArray()).containsExactly(42f);
    assertThat(golden.tensor("empty").shape()).containsExactly(0, 4);
  }

  @Test
  void writerStillProducesTheGoldenBytes() throws IOException {
    byte[] golden = Files.readAllBytes(GoldenFiles.resource(GoldenFiles.TINY_SAFETENSORS));
    assertThat(write(GoldenFiles.tinyMetadata(), GoldenFiles.tinyTensors()))
        .containsExactly(golden);
  }

  @Test
  void readsTensorsStoredOutOfHeaderOrder() throws IOException {
    String json =
        "{\"late\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]},"
            + "\"early\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}";
    SafeTensorsFile f = read(handBuilt(json, bytes(9, 7, 8)));
    assertThat(f.tensors().keySet()).containsExactly("late", "early");
    assertThat(f.tensor("late").data()).containsExactly(7, 8);
    assertThat(f.tensor("early").data()).containsExactly(9);
    assertThat(f.metadata()).isEmpty();
  }

  @Test
  void reservedAndEmptyNamesAreRejectedOnWrite() {
    Map<String, TensorData> bad =
        Map.of("__metadata__", TensorData.ofFloats(new long[0], new float[] {1}));
    assertThatThrownBy(() -> write(Map.of(), bad))
        .hasMessage("Tensor name must be non-empty and not __metadata__, cannot be: __metadata__");
  }

  @Test
  void headerLengthBeyondTheFileIsNamed() throws IOException {
    byte[] file = handBuilt("{}", new byte[0]);
    ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
    Path p = tmp.resolve("long-header.safetensors");
    Files.write(p, file);
    assertThatThrownBy(() -> SafeTensors.read(p))
        .isInstanceOf(IOException.class)
        .hasMessage(
            "Safetensors header length in "
                + p
                + " must not exceed the file size minus 8 (8), cannot be: 1000");
    assertThatThrownBy(() -> read(file))
        .hasMessageContaining("mem.safetensors is truncated inside its header");
  }

  @Test
  void absurdHeaderLengthIsRejected() {
    byte[] file = handBuilt("{}", new byte[0]);
    ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
    assertThatThrownBy(() -> read(file))
        .hasMessage(
            "Safetensors header length in mem.safetensors must be in [1, 104857600], cannot be: "
                + "18446744073709551615");
    assertThatThrownBy(() -> read(new byte[3]))
        .hasMessageContaining("mem.safetensors is truncated: it has 3 bytes");
  }

  @Test
  void malformedJsonIsNamed() {
    assertThatThrownBy(() -> read(handBuilt("{\"a\":", new byte[0])))
        .hasMessageStartingWith("Safetensors header of mem.safetensors is not valid JSON");
    assertThatThrownBy(() -> read(handBuilt("[1]", new byte[0])))
        .hasMessage("Safetensors header of mem.safetensors must be a JSON object");
    String duplicate =
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]},"
            + "\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}";
    assertThatThrownBy(() -> read(handBuilt(duplicate, bytes(1))))
        .hasMessageContaining("Duplicate field 'a'");
  }

  @Test
  void unknownDtypeNamesTensorAndFile() {
    String json = "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    assertThatThrownBy(() -> read(handBuilt(json, bytes(1))))
        .hasMessageStartingWith("Tensor w in mem.safetensors: Unsupported tensor dtype")
        .hasMessageEndingWith("cannot be: F8_E4M3");
  }

  @Test
  void shapeMustMatchOffsetSpan() {
    String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}";
    assertThatThrownBy(() -> read(handBuilt(json, new byte[4])))
        .hasMessage(
            "Tensor w in mem.safetensors has dtype F32 and shape [2], so its data_offsets must"
                + " span 8 bytes, cannot be: [0, 4]");
    String negative = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}";
    assertThatThrownBy(() -> read(handBuilt(negative, new byte[4])))
        .hasMessage(
            "Tensor w in mem.safetensors must have non-negative integers in shape, cannot be:"
                + " [-1]");
    String reversed = "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}";
    assertThatThrownBy(() -> read(handBuilt(reversed, new byte[4])))
        .hasMessage(
            "Tensor w in mem.safetensors must have data_offsets begin <= end, cannot be: [4, 0]");
  }

  @Test
  void overlappingTensorsAreRejected() {
    String json =
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
            + "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}";
    assertThatThrownBy(() -> read(handBuilt(json, new byte[4])))
        .hasMessage(
            "Tensor b in mem.safetensors overlaps tensor a: data_offsets [2, 4) and [0, 3)");
  }

  @Test
  void offsetsBeyondTheFileAreRejected() throws IOException {
    String json = "{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
    Path p = tmp.resolve("short.safetensors");
    Files.write(p, handBuilt(json, new byte[3]));
    assertThatThrownBy(() -> SafeTensors.read(p))
        .hasMessage(
            "Tensor w in " + p + " has data_offsets [0, 4) beyond the data buffer of 3 bytes");
    assertThatThrownBy(() -> read(handBuilt(json, new byte[3])))
        .hasMessage(
            "Safetensors file mem.safetensors is truncated: tensor w needs data bytes [0, 4)");
  }

  @Test
  void metadataValuesMustBeStrings() {
    String json = "{\"__metadata__\":{\"step\":12}}";
    assertThatThrownBy(() -> read(handBuilt(json, new byte[0])))
        .hasMessage(
            "__metadata__ value of key step in mem.safetensors must be a string, cannot be: 12");
  }

  @Test
  void missingFileIsNamed() {
    Path p = tmp.resolve("nope.safetensors");
    assertThatThrownBy(() -> SafeTensors.read(p))
        .isInstanceOf(IOException.class)
        .hasMessage("Safetensors file does not exist or is not a file: " + p);
  }

  @Test
  void parametersSaveAndLoadBackExactly() throws IOException {
    try (NDManager m = NDManager.newBaseManager();
        Parameters source = Parameters.create(m);
        Parameters target = Parameters.create(m)) {
      source.put("a.weight", m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)));
      source.put("a.bias", m.create(new float[] {-1, 1}));
      target.put("a.weight", m.zeros(new Shape(2, 3)));
      target.put("a.bias", m.zeros(new Shape(2)));

      Path file = tmp.resolve("p.safetensors");
      SafeTensorsFile saved = SafeTensors.fromParameters(source, Map.of("format", "pt"));
      SafeTensors.write(file, saved.metadata(), saved.tensors());
      SafeTensors.LoadReport report = SafeTensors.loadInto(target, SafeTensors.read(file), true);

      assertThat(report.loaded()).containsExactly("a.weight", "a.bias");
      assertThat(report.missing()).isEmpty();
      assertThat(report.unexpected()).isEmpty();
      assertThat(target.get("a.weight").toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
      assertThat(target.get("a.bias").toFloatArray()).containsExactly(-1, 1);
      assertThat(target.get("a.weight").getManager()).isSameAs(target.manager());
    }
  }

  @Test
  void halfTensorsLoadIntoFloatParameters() {
    try (NDManager m = NDManager.newBaseManager();
        Parameters target = Parameters.create(m)) {
      target.put("w", m.zeros(new Shape(2)));
      LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
      tensors.put("w", TensorData.ofFloatsAsHalf(new long[] {2}, new float[] {0.5f, -3f}));
      SafeTensors.loadInto(target, new SafeTensorsFile(Map.of(), tensors), true);
      assertThat(target.get("w").getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(target.get("w").toFloatArray()).containsExactly(0.5f, -3f);
    }
  }

  @Test
  void strictLoadListsEveryProblemAndChangesNothing() {
    try (NDManager m = NDManager.newBaseManager();
        Parameters target = Parameters.create(m)) {
      target.put("kept", m.zeros(new Shape(2)));
      target.put("missing", m.zeros(new Shape(1)));
      target.put("resized", m.zeros(new Shape(3)));
      LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
      tensors.put("kept", TensorData.ofFloats(new long[] {2}, new float[] {1, 2}));
      tensors.put("resized", TensorData.ofFloats(new long[] {2}, new float[] {1, 2}));
      tensors.put("extra", TensorData.ofFloats(new long[] {1}, new float[] {1}));
      SafeTensorsFile file = new SafeTensorsFile(Map.of(), tensors);

      assertThatThrownBy(() -> SafeTensors.loadInto(target, file, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "Tensors do not match the parameters (strict): missing [missing], unexpected"
                  + " [extra], shape mismatches [resized (file [2], model [3])]");
      assertThat(target.get("kept").toFloatArray()).containsExactly(0, 0);
    }
  }

  @Test
  void lenientLoadSkipsMissingAndUnexpectedButNotShapeMismatches() {
    try (NDManager m = NDManager.newBaseManager();
        Parameters target = Parameters.create(m)) {
      target.put("kept", m.zeros(new Shape(2)));
      target.put("missing", m.zeros(new Shape(1)));
      LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
      tensors.put("kept", TensorData.ofFloats(new long[] {2}, new float[] {1, 2}));
      tensors.put("extra", TensorData.ofFloats(new long[] {1}, new float[] {1}));

      SafeTensors.LoadReport report =
          SafeTensors.loadInto(target, new SafeTensorsFile(Map.of(), tensors), false);
      assertThat(report)
          .isEqualTo(
              new SafeTensors.LoadReport(
                  java.util.List.of("kept"),
                  java.util.List.of("missing"),
                  java.util.List.of("extra")));
      assertThat(target.get("kept").toFloatArray()).containsExactly(1, 2);

      tensors.put("missing", TensorData.ofFloats(new long[] {2}, new float[] {1, 2}));
      assertThatThrownBy(
              () -> SafeTensors.loadInto(target, new SafeTensorsFile(Map.of(), tensors), false))
          .hasMessageContaining("shape mismatches [missing (file [2], model [1])]");
    }
  }

  @Test
  void unknownNameLookupListsPresentNames() {
    SafeTensorsFile f = new SafeTensorsFile(Map.of(), new LinkedHashMap<>());
    assertThatThrownBy(() -> f.tensor("w")).hasMessage("No tensor named w; present: []");
    assertThat(Arrays.asList(DType.values())).hasSize(8);
  }
}

package org.dtmspark.core.io;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.nn.Parameters;

/**
 * Reader and writer of the Hugging Face safetensors format.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length {@code N}; {@code N} bytes of UTF-8
 * JSON, padded with spaces to a multiple of 8, of the form {@code {"__metadata__": {string:
 * string}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}}; then the
 * data buffer, in which each tensor occupies bytes {@code [begin, end)}, little-endian, row-major.
 * This writer stores tensors in the order given, contiguously from offset 0, and omits {@code
 * __metadata__} when there is none.
 */
public final class SafeTensors {
  /** Largest header this reader accepts, in bytes. */
  public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  private static final String METADATA_KEY = "__metadata__";
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private SafeTensors() {}

  /**
   * Outcome of {@link #loadInto}: which names were loaded, which parameters the file lacked and
   * which tensors of the file the parameters lack.
   */
  public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected) {
    public LoadReport {
      loaded = List.copyOf(loaded);
      missing = List.copyOf(missing);
      unexpected = List.copyOf(unexpected);
    }
  }

  /**
   * Writes {@code tensors} in the given order with {@code metadata}; does not close {@code out}.
   *
   * @param metadata string map stored as {@code __metadata__}; may be empty
   * @param tensors tensors by name; names must be non-empty and not {@code __metadata__}
   */
  public static void write(
      OutputStream out, Map<String, String> metadata, Map<String, TensorData> tensors)
      throws IOException {
    byte[] header = header(metadata, tensors);
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
    out.write(header);
    for (TensorData t : tensors.values()) {
      out.write(t.data());
    }
    out.flush();
  }

  /** Writes a safetensors file atomically (see {@link AtomicFiles#writeAtomically}). */
  public static void write(Path path, Map<String, String> metadata, Map<String, TensorData> tensors)
      throws IOException {
    AtomicFiles.writeAtomically(path, out -> write(out, metadata, tensors));
  }

  private static byte[] header(Map<String, String> metadata, Map<String, TensorData> tensors)
      throws IOException {
    ObjectNode root = MAPPER.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = root.putObject(METADATA_KEY);
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        if (e.getKey() == null || e.getValue() == null) {
          throw new IllegalArgumentException(
              "Safetensors metadata keys and values must not be null, cannot be: " + e);
        }
        meta.put(e.getKey(), e.getValue());
      }
    }
    long offset = 0;
    for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
      String name = e.getKey();
      if (name == null || name.isEmpty() || name.equals(METADATA_KEY)) {
        throw new IllegalArgumentException(
            "Tensor name must be non-empty and not " + METADATA_KEY + ", cannot be: " + name);
      }
      TensorData t = e.getValue();
      ObjectNode node = root.putObject(name);
      node.put("dtype", t.dtype().safetensorsName());
      ArrayNode shape = node.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      long end = offset + t.data().length;
      node.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    byte[] json = MAPPER.writeValueAsBytes(root);
    int padded = (json.length + 7) / 8 * 8;
    byte[] header = Arrays.copyOf(json, padded);
    Arrays.fill(header, json.length, padded, (byte) ' ');
    return header;
  }

  /**
   * Reads and validates a safetensors file.
   *
   * @throws IOException naming the file, and the tensor where there is one, when the file is
   *     truncated or malformed
   */
  public static SafeTensorsFile read(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new IOException("Safetensors file does not exist or is not a file: " + path);
    }
    long size = Files.size(path);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
      return read(in, path.toString(), size);
    }
  }

  /**
   * Reads and validates safetensors content from {@code in} (not closed).
   *
   * @param sourceName the name errors use for the source, e.g. its path
   */
  public static SafeTensorsFile read(InputStream in, String sourceName) throws IOException {
    return read(in, sourceName, -1);
  }

  private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  private static SafeTensorsFile read(InputStream in, String source, long fileSize)
      throws IOException {
    byte[] lengthBytes = in.readNBytes(8);
    if (lengthBytes.length < 8) {
      throw new IOException(
          "Safetensors file "
              + source
              + " is truncated: it has "
              + lengthBytes.length
              + " bytes, fewer than the 8 of the header length");
    }
    long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
      throw new IOException(
          "Safetensors header length in "
              + source
              + " must be in [1, "
              + MAX_HEADER_BYTES
              + "], cannot be: "
              + Long.toUnsignedString(headerLength));
    }
    if (fileSize >= 0 && headerLength > fileSize - 8) {
      throw new IOException(
          "Safetensors header length in "
              + source
              + " must not exceed the file size minus 8 ("
              + (fileSize - 8)
              + "), cannot be: "
              + headerLength);
    }
    byte[] headerBytes = in.readNBytes((int) headerLength);
    if (headerBytes.length < headerLength) {
      throw new IOException(
          "Safetensors file "
              + source
              + " is truncated inside its header: expected "
              + headerLength
              + " header bytes, found "
              + headerBytes.length);
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(new String(headerBytes, StandardCharsets.UTF_8).stripTrailing());
    } catch (JsonProcessingException e) {
      throw new IOException(
          "Safetensors header of " + source + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException("Safetensors header of " + source + " must be a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals(METADATA_KEY)) {
        readMetadata(field.getValue(), source, metadata);
      } else {
        entries.add(parseEntry(field.getKey(), field.getValue(), source));
      }
    }
    long dataSize = fileSize >= 0 ? fileSize - 8 - headerLength : Long.MAX_VALUE;
    List<Entry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    Entry previous = null;
    for (Entry e : byOffset) {
      if (previous != null && e.begin < previous.end) {
        throw new IOException(
            "Tensor "
                + e.name
                + " in "
                + source
                + " overlaps tensor "
                + previous.name
                + ": data_offsets ["
                + e.begin
                + ", "
                + e.end
                + ") and ["
                + previous.begin
                + ", "
                + previous.end
                + ")");
      }
      if (e.end > dataSize) {
        throw new IOException(
            "Tensor "
                + e.name
                + " in "
                + source
                + " has data_offsets ["
                + e.begin
                + ", "
                + e.end
                + ") beyond the data buffer of "
                + dataSize
                + " bytes");
      }
      previous = e;
    }
    Map<String, TensorData> byName = new LinkedHashMap<>();
    long position = 0;
    for (Entry e : byOffset) {
      try {
        in.skipNBytes(e.begin - position);
      } catch (EOFException eof) {
        throw truncated(source, e);
      }
      long span = e.end - e.begin;
      if (span > Integer.MAX_VALUE - 8) {
        throw new IOException(
            "Tensor " + e.name + " in " + source + " is too large to load: " + span + " bytes");
      }
      byte[] data = in.readNBytes((int) span);
      if (data.length < span) {
        throw truncated(source, e);
      }
      byName.put(e.name, new TensorData(e.dtype, e.shape, data));
      position = e.end;
    }
    LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
    for (Entry e : entries) {
      tensors.put(e.name, byName.get(e.name));
    }
    return new SafeTensorsFile(metadata, tensors);
  }

  private static IOException truncated(String source, Entry e) {
    return new IOException(
        "Safetensors file "
            + source
            + " is truncated: tensor "
            + e.name
            + " needs data bytes ["
            + e.begin
            + ", "
            + e.end
            + ")");
  }

  private static void readMetadata(JsonNode node, String source, Map<String, String> out)
      throws IOException {
    if (!node.isObject()) {
      throw new IOException(
          METADATA_KEY + " in " + source + " must be a JSON object, cannot be: " + node);
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new IOException(
            METADATA_KEY
                + " value of key "
                + e.getKey()
                + " in "
                + source
                + " must be a string, cannot be: "
                + e.getValue());
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
  }

  private static Entry parseEntry(String name, JsonNode node, String source) throws IOException {
    String where = "Tensor " + name + " in " + source;
    if (!node.isObject()) {
      throw new IOException(where + " must be a JSON object, cannot be: " + node);
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new IOException(where + " must have a string dtype, cannot be: " + dtypeNode);
    }
    DType dtype;
    try {
      dtype = DType.fromSafetensorsName(dtypeNode.textValue());
    } catch (IllegalArgumentException e) {
      throw new IOException(where + ": " + e.getMessage(), e);
    }
    long[] shape = longArray(node.get("shape"), where, "shape", -1);
    long[] offsets = longArray(node.get("data_offsets"), where, "data_offsets", 2);
    if (offsets[0] > offsets[1]) {
      throw new IOException(
          where + " must have data_offsets begin <= end, cannot be: " + Arrays.toString(offsets));
    }
    long expected;
    try {
      expected = Math.multiplyExact(TensorData.numel(shape), (long) dtype.byteSize());
    } catch (ArithmeticException e) {
      throw new IOException(where + " has a shape too large: " + Arrays.toString(shape), e);
    }
    if (offsets[1] - offsets[0] != expected) {
      throw new IOException(
          where
              + " has dtype "
              + dtype
              + " and shape "
              + Arrays.toString(shape)
              + ", so its data_offsets must span "
              + expected
              + " bytes, cannot be: "
              + Arrays.toString(offsets));
    }
    return new Entry(name, dtype, shape, offsets[0], offsets[1]);
  }

  private static long[] longArray(JsonNode node, String where, String field, int length)
      throws IOException {
    if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
      throw new IOException(
          where
              + " must have "
              + field
              + " as an array"
              + (length >= 0 ? " of " + length + " integers" : " of integers")
              + ", cannot be: "
              + node);
    }
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
        throw new IOException(
            where + " must have non-negative integers in " + field + ", cannot be: " + node);
      }
      out[i] = v.longValue();
    }
    return out;
  }

  /**
   * Copies every parameter to host memory, in definition order.
   *
   * @param metadata stored as the file's {@code __metadata__}
   */
  public static SafeTensorsFile fromParameters(
      Parameters parameters, Map<String, String> metadata) {
    LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : parameters.asMap().entrySet()) {
      tensors.put(e.getKey(), TensorData.fromNDArray(e.getValue()));
    }
    return new SafeTensorsFile(metadata, tensors);
  }

  /**
   * Replaces the values of {@code parameters} by the tensors of {@code file} with the same names,
   * converted to each parameter's data type. Nothing is replaced unless every check passes. A shape
   * mismatch always fails; with {@code strict}, a parameter absent from the file or a tensor
   * without parameter fails too. Replaced arrays do not track gradients: call {@link
   * Parameters#requireGradients()} again when training.
   *
   * @return the names loaded, the parameters left as they were, and the tensors ignored
   * @throws IllegalArgumentException listing every missing, unexpected and mismatched name
   */
  public static LoadReport loadInto(Parameters parameters, SafeTensorsFile file, boolean strict) {
    List<String> loaded = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    for (String name : parameters.names()) {
      TensorData t = file.tensors().get(name);
      if (t == null) {
        missing.add(name);
        continue;
      }
      long[] expected = parameters.get(name).getShape().getShape();
      if (!Arrays.equals(expected, t.shape())) {
        mismatched.add(
            name
                + " (file "
                + Arrays.toString(t.shape())
                + ", model "
                + Arrays.toString(expected)
                + ")");
      } else {
        loaded.add(name);
      }
    }
    List<String> unexpected = new ArrayList<>();
    for (String name : file.tensors().keySet()) {
      if (!parameters.contains(name)) {
        unexpected.add(name);
      }
    }
    if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
      throw new IllegalArgumentException(
          "Tensors do not match the parameters"
              + (strict ? " (strict)" : "")
              + ": missing "
              + missing
              + ", unexpected "
              + unexpected
              + ", shape mismatches "
              + mismatched);
    }
    for (String name : loaded) {
      NDArray current = parameters.get(name);
      NDArray value = file.tensors().get(name).toNDArray(parameters.manager());
      if (value.getDataType() != current.getDataType()) {
        NDArray converted = value.toType(current.getDataType(), false);
        value.close();
        value = converted;
      }
      parameters.replace(name, value);
    }
    return new LoadReport(loaded, missing, unexpected);
  }
}

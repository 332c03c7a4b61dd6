package org.dtmspark.core.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends metrics records, one JSON object per line ({@code metrics.jsonl}), flushing each line so
 * that a crash loses at most the line being written.
 *
 * <p>Values must be JSON values: strings, numbers, booleans, null, lists and maps of them.
 * Non-finite numbers are written as the bare tokens {@code NaN}, {@code Infinity} and {@code
 * -Infinity}, as Python's {@code json} module does, and read back as such. Opening an existing file
 * appends; a final line cut short by a crash is ended first so that new records start on their own
 * line.
 */
public final class MetricsLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsLog.class);
  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .build();

  private final Path path;
  private final BufferedWriter writer;

  /** Opens {@code path} for appending, creating it and its parent directories if needed. */
  public MetricsLog(Path path) throws IOException {
    this.path = path;
    Path parent = path.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    boolean endsMidLine = false;
    if (Files.exists(path) && Files.size(path) > 0) {
      try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
        f.seek(f.length() - 1);
        endsMidLine = f.read() != '\n';
      }
    }
    this.writer =
        Files.newBufferedWriter(
            path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    if (endsMidLine) {
      writer.write('\n');
      writer.flush();
    }
  }

  /** The file written. */
  public Path path() {
    return path;
  }

  /**
   * Appends {@code record} as one line and flushes it.
   *
   * @throws UncheckedIOException when the file cannot be written
   * @throws IllegalArgumentException when a value cannot be written as JSON
   */
  public synchronized void log(Map<String, Object> record) {
    String line;
    try {
      line = MAPPER.writeValueAsString(record);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "Metrics record must hold JSON values only, cannot be: " + record, e);
    }
    try {
      writer.write(line);
      writer.write('\n');
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot append to metrics log " + path, e);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    writer.close();
  }

  /**
   * The step records of a metrics file (those with a {@code step}), in order: the per-rank data
   * records ({@code image_bytes_read}, ...) left out.
   *
   * @throws IOException as {@link #read}
   */
  public static List<Map<String, Object>> readSteps(Path path) throws IOException {
    return read(path).stream().filter(r -> r.containsKey("step")).toList();
  }

  /**
   * Reads every record of a metrics file, in order. Blank lines are skipped; a malformed last line
   * without a newline (a write cut short by a crash) is skipped with a warning.
   *
   * @throws IOException naming the file and line of a malformed record
   */
  public static List<Map<String, Object>> read(Path path) throws IOException {
    String content = Files.readString(path, StandardCharsets.UTF_8);
    boolean complete = content.endsWith("\n");
    String[] lines = content.split("\n", -1);
    List<Map<String, Object>> records = new ArrayList<>();
    int last = complete ? lines.length - 1 : lines.length;
    for (int i = 0; i < last; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        records.add(MAPPER.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {}));
      } catch (JsonProcessingException e) {
        if (!complete && i == last - 1) {
          LOG.warn("Skipping the unterminated last line {} of {}", i + 1, path);
          continue;
        }
        throw new IOException(
            "Malformed metrics record at line "
                + (i + 1)
                + " of "
                + path
                + ": "
                + e.getOriginalMessage(),
            e);
      }
    }
    return records;
  }
}

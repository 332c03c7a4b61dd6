package org.dtmspark.jobs;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts the native operations a piece of work runs, with PyTorch's profiler (DJL's {@code
 * JniUtils.startProfile}/{@code stopProfile}, which write a Chrome trace).
 *
 * <p>An operation is a top-level CPU operator event of the trace ({@code aten::mul}, {@code
 * aten::copy_}, ...): one not nested in another operator on the same thread. That is the number of
 * calls into libtorch's dispatcher the code makes; the operators they call internally are not
 * counted again.
 */
public final class OpProfile {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private OpProfile() {}

  /**
   * Top-level operators of one profiled run.
   *
   * @param ops their number
   * @param byName count per operator name, most frequent first
   */
  public record Counts(long ops, Map<String, Long> byName) {
    /** The {@code n} most frequent operators as {@code name xcount}, for a log line. */
    public String top(int n) {
      List<String> parts = new ArrayList<>();
      byName.entrySet().stream().limit(n).forEach(e -> parts.add(e.getKey() + " x" + e.getValue()));
      return String.join(", ", parts);
    }
  }

  /** Runs {@code work} under the profiler, writes the trace to {@code trace} and counts it. */
  public static Counts count(Runnable work, Path trace) {
    JniUtils.startProfile(false, false, false);
    try {
      work.run();
    } finally {
      JniUtils.stopProfile(trace.toAbsolutePath().toString());
    }
    return parse(trace);
  }

  /** Counts the top-level operator events of a Chrome trace written by PyTorch's profiler. */
  public static Counts parse(Path trace) {
    JsonNode root;
    try {
      root = MAPPER.readTree(trace.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read profiler trace " + trace, e);
    }
    JsonNode events = root.isArray() ? root : root.path("traceEvents");
    if (!events.isArray()) {
      throw new IllegalArgumentException("Profiler trace " + trace + " holds no traceEvents array");
    }
    Map<String, List<double[]>> byThread = new HashMap<>();
    Map<String, List<String>> names = new HashMap<>();
    for (JsonNode e : events) {
      // Complete events of CPU operators: the legacy profiler DJL starts writes no category.
      String category = e.path("cat").asText("cpu_op");
      if (!"X".equals(e.path("ph").asText()) || !"cpu_op".equals(category)) {
        continue;
      }
      String tid = e.path("pid").asText() + "/" + e.path("tid").asText();
      List<double[]> spans = byThread.computeIfAbsent(tid, k -> new ArrayList<>());
      List<String> n = names.computeIfAbsent(tid, k -> new ArrayList<>());
      double ts = e.path("ts").asDouble();
      spans.add(new double[] {ts, ts + e.path("dur").asDouble(), n.size()});
      n.add(e.path("name").asText());
    }
    Map<String, Long> counts = new HashMap<>();
    long total = 0;
    for (Map.Entry<String, List<double[]>> t : byThread.entrySet()) {
      List<double[]> spans = t.getValue();
      // Outer events first: by start, then longest first.
      spans.sort(Comparator.<double[]>comparingDouble(s -> s[0]).thenComparing(s -> -s[1]));
      Deque<Double> open = new ArrayDeque<>();
      for (double[] s : spans) {
        while (!open.isEmpty() && open.peek() <= s[0]) {
          open.pop();
        }
        if (open.isEmpty()) {
          total++;
          counts.merge(names.get(t.getKey()).get((int) s[2]), 1L, Long::sum);
        }
        open.push(s[1]);
      }
    }
    Map<String, Long> sorted = new LinkedHashMap<>();
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEachOrdered(e -> sorted.put(e.getKey(), e.getValue()));
    return new Counts(total, sorted);
  }
}

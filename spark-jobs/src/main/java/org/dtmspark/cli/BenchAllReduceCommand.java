package org.dtmspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.jobs.pretrain.ExchangeBenchmark;
import org.dtmspark.sync.AllReduceBenchmark;
import org.dtmspark.sync.Wire;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm bench-allreduce}: the gradient-synchronisation figures of BENCHMARKS.md. */
@Command(
    name = "bench-allreduce",
    mixinStandardHelpOptions = true,
    description = {
      "Times the ring all-reduce of gradient synchronisation with every rank a thread of this JVM",
      "on loopback TCP: median time, algorithm and bus bandwidth (NCCL's definitions) for each",
      "parameter count, rank count and wire format, against this machine's memory-copy bandwidth",
      "measured in the same run.",
      "With --exchange: times the whole gradient exchange of a step (AllReduceGradientReducer) on",
      "the flat gradient of a ViT (--model) for each exchange path side by side, with the heap",
      "allocated per step, against a plain socket ring moving the same bytes in the same run."
    })
final class BenchAllReduceCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--params",
      split = ",",
      defaultValue = "22M,86M",
      description =
          "Parameter counts (floats per buffer), K/M/G = 10^3/10^6/10^9 (default:"
              + " ${DEFAULT-VALUE}: ViT-S/16 and ViT-B/16).")
  List<String> params;

  @Option(
      names = "--ranks",
      split = ",",
      defaultValue = "2,3,4",
      description = "World sizes (default: ${DEFAULT-VALUE}).")
  List<Integer> ranks;

  @Option(
      names = "--wire",
      split = ",",
      defaultValue = "fp32,fp16",
      description = "Wire formats (default: ${DEFAULT-VALUE}).")
  List<String> wires;

  @Option(
      names = "--bucket-size",
      defaultValue = "4m",
      description = "Bucket size, e.g. 4m or 512k (default: ${DEFAULT-VALUE}).")
  String bucketSize;

  @Option(
      names = "--warmup",
      defaultValue = "1",
      description = "Untimed all-reduces per configuration (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      description = "Timed all-reduces per configuration (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--memcpy-size",
      defaultValue = "256m",
      description = "Buffer copied to measure memory bandwidth (default: ${DEFAULT-VALUE}).")
  String memcpySize;

  @Option(
      names = "--exchange",
      description =
          "Time the gradient exchange of a step instead of the bare all-reduce (uses the first"
              + " of --ranks).")
  boolean exchange;

  @Option(
      names = "--model",
      defaultValue = "base",
      description =
          "With --exchange: the ViT size whose parameters make the gradient (default:"
              + " ${DEFAULT-VALUE}, 86M).")
  String model;

  @Option(
      names = "--paths",
      split = ",",
      defaultValue = "per-parameter,direct,staged",
      description =
          "With --exchange: per-parameter (the issue-5 exchange through heap arrays), direct (the"
              + " ring sums the CPU tensor in place), staged (bucketed copies to a host tensor on"
              + " a copy thread, the GPU path) (default: ${DEFAULT-VALUE}).")
  List<String> paths;

  @Option(names = "--output", paramLabel = "FILE", description = "Also write the results as JSON.")
  Path output;

  @Override
  public Integer call() throws Exception {
    List<Integer> counts = new ArrayList<>();
    for (String p : params) {
      counts.add(count("--params", p));
    }
    List<Wire> formats = wires.stream().map(Wire::parse).toList();
    long bucket = ShardCommand.bytes("--bucket-size", bucketSize);
    if (bucket > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "--bucket-size must be below 2g, cannot be: " + bucketSize);
    }
    if (exchange) {
      ExchangeBenchmark.Result result =
          ExchangeBenchmark.run(
              new ExchangeBenchmark.Plan(
                  model, ranks.get(0), (int) bucket, paths, warmup, repeats));
      ExchangeBenchmark.markdown(result).forEach(spec.commandLine().getOut()::println);
      if (output != null) {
        write(ExchangeBenchmark.toMap(result));
      }
      return 0;
    }
    AllReduceBenchmark.Plan plan =
        new AllReduceBenchmark.Plan(
            counts,
            ranks,
            formats,
            (int) bucket,
            warmup,
            repeats,
            ShardCommand.bytes("--memcpy-size", memcpySize));
    AllReduceBenchmark.Result result = AllReduceBenchmark.run(plan);
    var out = spec.commandLine().getOut();
    AllReduceBenchmark.markdown(result).forEach(out::println);
    if (output != null) {
      write(AllReduceBenchmark.toMap(result));
    }
    return 0;
  }

  private void write(Object json) throws java.io.IOException {
    byte[] bytes =
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json);
    AtomicFiles.writeAtomically(output, o -> o.write(bytes));
  }

  /** Parses {@code 22M}, {@code 1.5k}, {@code 1000}: decimal units; errors name the option. */
  static int count(String option, String text) {
    String t = text.trim().toUpperCase(Locale.ROOT);
    long unit = 1;
    char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
    if (last == 'K' || last == 'M' || last == 'G') {
      unit = last == 'K' ? 1_000L : last == 'M' ? 1_000_000L : 1_000_000_000L;
      t = t.substring(0, t.length() - 1);
    }
    try {
      BigDecimal v = new BigDecimal(t).multiply(BigDecimal.valueOf(unit));
      if (v.signum() <= 0 || v.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE - 8)) > 0) {
        throw new NumberFormatException();
      }
      return v.intValueExact();
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException(
          option + " must be a positive whole count like 1000, 22M or 1.5K, cannot be: " + text);
    }
  }
}

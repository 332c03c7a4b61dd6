package org.dtmspark.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.data.image.InspectOptions;
import org.dtmspark.data.plan.InputLayout;
import org.dtmspark.data.plan.ScanOptions;
import org.dtmspark.data.plan.ShardSize;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.jobs.SparkSessions;
import org.dtmspark.jobs.shard.ShardJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm shard}: an image collection becomes Parquet shards with a manifest. */
@Command(
    name = "shard",
    mixinStandardHelpOptions = true,
    description = {
      "Shards ImageNet (ImageFolder, Kaggle, or the ILSVRC2012 archives) or any labelled image",
      "tree into Parquet on any Hadoop filesystem: every file becomes a row, a reject, or a",
      "skipped entry; _manifest.json is written last and marks the output complete."
    })
final class ShardCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--input", required = true, paramLabel = "URI", description = "Input root.")
  String input;

  @Option(names = "--output", required = true, paramLabel = "URI", description = "Output root.")
  String output;

  @Option(
      names = "--layout",
      paramLabel = "NAME",
      description = "image-folder, kaggle or ilsvrc-archives (default: detected).")
  String layout;

  @Option(
      names = "--splits",
      split = ",",
      paramLabel = "NAMES",
      description = "Splits to shard (default: train,val).")
  List<String> splits;

  @Option(
      names = "--synsets",
      paramLabel = "FILE",
      description = "Synset list (one wnid per line).")
  String synsets;

  @Option(
      names = "--val-labels",
      paramLabel = "FILE",
      description = "Val labels (LOC_val_solution.csv or 'name wnid' lines) for archives.")
  String valLabels;

  @Option(names = "--shards", paramLabel = "N", description = "Shards per split.")
  Integer shards;

  @Option(
      names = "--shard-size",
      paramLabel = "BYTES",
      description = "Target shard size, e.g. 256m (default: 256m unless --shards).")
  String shardSize;

  @Option(
      names = "--row-group-size",
      paramLabel = "BYTES",
      defaultValue = "64m",
      description = "Parquet row-group size (default: ${DEFAULT-VALUE}).")
  String rowGroupSize;

  @Option(
      names = "--compression",
      defaultValue = "snappy",
      description = "uncompressed, snappy, gzip, zstd or lz4_raw (default: ${DEFAULT-VALUE}).")
  String compression;

  @Option(
      names = "--resize",
      paramLabel = "PX",
      defaultValue = "0",
      description = "Resize the shorter side to PX when larger (0: never).")
  int resize;

  @Option(
      names = "--jpeg-quality",
      defaultValue = "0.95",
      description = "Quality of re-encoded JPEGs (default: ${DEFAULT-VALUE}).")
  float jpegQuality;

  @Option(names = "--reencode-all", description = "Re-encode every image as JPEG.")
  boolean reencodeAll;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Shuffle seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--files-per-task",
      defaultValue = "256",
      description = "Inputs per read task (default: ${DEFAULT-VALUE}).")
  int filesPerTask;

  @Option(names = "--overwrite", description = "Replace an existing complete output.")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    if (shards != null && shardSize != null) {
      throw new IllegalArgumentException("Give --shards or --shard-size, not both");
    }
    ShardSize size =
        shards != null
            ? ShardSize.numShards(shards)
            : ShardSize.targetBytes(bytes("--shard-size", shardSize == null ? "256m" : shardSize));
    ScanOptions scan = ScanOptions.defaults();
    if (splits != null) {
      scan = scan.withSplits(splits.toArray(String[]::new));
    }
    if (synsets != null) {
      scan = scan.withSynsetFile(new Path(synsets));
    }
    if (valLabels != null) {
      scan = scan.withValLabels(new Path(valLabels));
    }
    ShardWriteOptions write =
        ShardWriteOptions.DEFAULTS
            .withRowGroupBytes(bytes("--row-group-size", rowGroupSize))
            .withCodec(ShardWriteOptions.parseCodec(compression));
    if (output.startsWith("s3a://")) {
      write = write.withCommitMode(ShardWriteOptions.CommitMode.DIRECT);
    }
    ShardJob.Options options =
        new ShardJob.Options(
            input,
            output,
            layout == null ? null : InputLayout.fromName(layout),
            scan,
            size,
            seed,
            write,
            new InspectOptions(reencodeAll, resize, jpegQuality),
            filesPerTask,
            overwrite);
    SparkSession spark = SparkSessions.getOrCreate("dtm shard");
    ShardJob.Result r = ShardJob.run(options, spark);
    spec.commandLine()
        .getOut()
        .printf(
            "shard: %d files found: %d rows %s, %d rejects, %d skipped in %.1f s; manifest %s%n",
            r.filesFound(),
            r.rows(),
            r.rowsPerSplit(),
            r.rejects(),
            r.skipped(),
            r.seconds(),
            r.manifest());
    return 0;
  }

  /** Parses {@code 64m}, {@code 1g}, {@code 4096}; errors name the option. */
  static long bytes(String option, String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    long unit = 1;
    char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
    if (last == 'k' || last == 'm' || last == 'g') {
      unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
      t = t.substring(0, t.length() - 1);
    }
    try {
      long v = Long.parseLong(t) * unit;
      if (v <= 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          option + " must be a positive size like 64m or 1g, cannot be: " + text);
    }
  }
}

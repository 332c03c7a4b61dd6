package org.dtmspark.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.idx.IdxClassNames;
import org.dtmspark.data.idx.IdxFile;
import org.dtmspark.data.idx.IdxImport;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm import-idx}: MNIST-family idx files to Parquet image shards, in this JVM. */
@Command(
    name = "import-idx",
    mixinStandardHelpOptions = true,
    description = {
      "Imports MNIST-family idx files (gzip or plain) as Parquet image shards",
      "(SPEC section 4): DIR/<split>/part-*.parquet, DIR/_rejects/, and",
      "DIR/_manifest.json, written last. Repeat --images, --labels, --split for each",
      "split; image ids follow that order. Files and DIR: local paths or Hadoop URIs",
      "(hdfs://, s3a://, file://). Example:",
      "  dtm import-idx --split test --images t10k-images-idx3-ubyte.gz",
      "    --labels t10k-labels-idx1-ubyte.gz --classes fashion-mnist --output fmnist"
    })
final class ImportIdxCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** The files of one split. */
  static final class SplitFiles {
    @Option(
        names = "--images",
        required = true,
        paramLabel = "FILE",
        description = "idx3 image file of the split.")
    String images;

    @Option(
        names = "--labels",
        required = true,
        paramLabel = "FILE",
        description = "idx1 label file of the split.")
    String labels;

    @Option(
        names = "--split",
        required = true,
        paramLabel = "NAME",
        description = "Split name, e.g. train or test.")
    String split;
  }

  @ArgGroup(exclusive = false, multiplicity = "1..*", heading = "Inputs, one group per split:%n")
  List<SplitFiles> splits;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Output root.")
  String output;

  @Option(
      names = "--classes",
      paramLabel = "NAMES",
      description =
          "Class names in idx label order: "
              + IdxClassNames.HELP
              + " (default: class_0, class_1, ...). Labels index the sorted names.")
  String classes;

  @Option(
      names = "--format",
      paramLabel = "png|jpeg",
      defaultValue = "png",
      description = "Image encoding: png (lossless) or jpeg (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(
      names = "--jpeg-quality",
      paramLabel = "Q",
      defaultValue = "0.9",
      description = "JPEG quality in (0, 1] with --format jpeg (default: ${DEFAULT-VALUE}).")
  float jpegQuality;

  @Option(
      names = "--rows-per-shard",
      paramLabel = "N",
      defaultValue = "" + IdxImport.DEFAULT_ROWS_PER_SHARD,
      description = "Most rows per shard (default: ${DEFAULT-VALUE}).")
  int rowsPerShard;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "" + IdxImport.DEFAULT_SEED,
      description = "Seed of the row shuffle (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--overwrite", description = "Replace a finished output in DIR.")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    Configuration conf = new Configuration();
    IdxImport.Builder builder =
        IdxImport.Options.builder()
            .setOutput(new Path(output))
            .optEncoding(IdxImport.Encoding.parse(format))
            .optJpegQuality(jpegQuality)
            .optRowsPerShard(rowsPerShard)
            .optSeed(seed)
            .optOverwrite(overwrite)
            .optConf(conf);
    if (classes != null) {
      builder.optClassNames(IdxClassNames.parse(classes));
    }
    for (SplitFiles files : splits) {
      builder.addSplit(
          new IdxImport.Split(
              files.split, IdxFile.parse(files.images, conf), IdxFile.parse(files.labels, conf)));
    }
    IdxImport.Result result = IdxImport.run(builder.build());
    spec.commandLine().getOut().println(result.summary());
    return 0;
  }
}

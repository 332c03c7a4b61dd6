package org.dtmspark.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.dtmspark.core.morph.MorphLevel;
import org.dtmspark.jobs.MorphInspector;
import org.dtmspark.jobs.MorphReport;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm morph}: shows what token morphing does to given tokens or to an image. */
@Command(
    name = "morph",
    mixinStandardHelpOptions = true,
    description = {
      "Runs bipartite token morphing with exactly the given levels.",
      "  dtm morph --targets T.npy --online U.npy --level R:K [--level R:K ...] --json",
      "    prints {\"levels\": [{\"r\", \"k\", \"clusters\"}], \"loss\"} for float32 [B, N, D] arrays;",
      "  dtm morph --image X --checkpoint C --level R:K --png out.png",
      "    draws the clusters of C's tokens of image X, one colour per cluster."
    })
final class MorphCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @ArgGroup(exclusive = false)
    Arrays arrays;

    @ArgGroup(exclusive = false)
    Picture picture;
  }

  static final class Arrays {
    @Option(
        names = "--targets",
        required = true,
        paramLabel = "T.npy",
        description = "Target tokens, float32 [B, N, D].")
    Path targets;

    @Option(
        names = "--online",
        required = true,
        paramLabel = "U.npy",
        description = "Online tokens, float32 [B, N, D].")
    Path online;

    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;
  }

  static final class Picture {
    @Option(
        names = "--image",
        required = true,
        paramLabel = "FILE",
        description = "Image file (PNG, JPEG, ...).")
    Path image;

    @Option(
        names = "--checkpoint",
        required = true,
        paramLabel = "DIR",
        description = "Model whose tokens are morphed.")
    Path checkpoint;

    @Option(
        names = "--png",
        required = true,
        paramLabel = "FILE",
        description = "Where to write the drawing.")
    Path png;
  }

  @Option(
      names = "--level",
      required = true,
      paramLabel = "R:K",
      description = "A level: R tokens merged per iteration, K iterations. Repeatable.")
  List<String> levels;

  @Option(names = "--no-protect-first", description = "Let the first token merge too.")
  boolean noProtectFirst;

  @Override
  public Integer call() throws Exception {
    List<MorphLevel> parsed = levels.stream().map(MorphLevel::parse).toList();
    boolean protectFirst = !noProtectFirst;
    if (source.arrays != null) {
      MorphReport report =
          MorphInspector.inspect(source.arrays.targets, source.arrays.online, parsed, protectFirst);
      spec.commandLine().getOut().println(source.arrays.json ? report.toJson() : report.summary());
    } else {
      int clusters =
          MorphInspector.draw(
              source.picture.image,
              source.picture.checkpoint,
              parsed.get(parsed.size() - 1),
              protectFirst,
              source.picture.png);
      spec.commandLine()
          .getOut()
          .printf("morph: %d clusters drawn to %s%n", clusters, source.picture.png);
    }
    return 0;
  }
}

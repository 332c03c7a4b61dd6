package org.dtmspark.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dtmspark.core.config.ProbeSettings;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.eval.FeatureExtractor;
import org.dtmspark.core.eval.Features;
import org.dtmspark.core.eval.LinearProbe;
import org.dtmspark.core.eval.ProbeResult;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.core.train.ModelCheckpoints;
import org.dtmspark.data.Datasets;
import org.dtmspark.jobs.JobLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm probe}: linear probe of a frozen encoder. */
@Command(
    name = "probe",
    mixinStandardHelpOptions = true,
    description = {
      "Linear probe: features of the frozen encoder (mean of final patch tokens),",
      "a softmax classifier trained on --images, top-1 on train and --val."
    })
final class ProbeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--checkpoint",
      required = true,
      paramLabel = "CHECKPOINT",
      description = "Encoder checkpoint.")
  Path checkpoint;

  @Option(
      names = "--images",
      required = true,
      paramLabel = "DATASET",
      description = "Training images: " + Datasets.SPEC_HELP)
  String images;

  @Option(
      names = "--val",
      required = true,
      paramLabel = "DATASET",
      description = "Validation images.")
  String val;

  @Option(names = "--output", paramLabel = "FILE", description = "Write the result as JSON here.")
  Path output;

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    Config effective = config.load(List.of());
    ProbeSettings settings = ProbeSettings.from(effective);
    JobLog.effectiveConfig("probe", effective);
    ProbeResult r = probe(checkpoint, images, val, settings);
    spec.commandLine()
        .getOut()
        .printf(
            "probe: train top-1 %.2f%%, val top-1 %.2f%%%n",
            100 * r.trainTop1(), 100 * r.valTop1());
    if (output != null) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("checkpoint", checkpoint.toString());
      json.put("train_top1", r.trainTop1());
      json.put("val_top1", r.valTop1());
      json.put("final_loss", r.finalLoss());
      byte[] bytes =
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json);
      AtomicFiles.writeAtomically(output, out -> out.write(bytes));
    }
    return 0;
  }

  /** Linear probe of the encoder in {@code checkpoint}: features of both splits, then the probe. */
  static ProbeResult probe(Path checkpoint, String train, String val, ProbeSettings settings) {
    try (NDManager manager = NDManager.newBaseManager()) {
      var model = ModelCheckpoints.load(checkpoint, manager).model();
      Features ft =
          FeatureExtractor.extract(model, Datasets.open(train), 256, ImageNormalization.IMAGENET);
      Features fv =
          FeatureExtractor.extract(model, Datasets.open(val), 256, ImageNormalization.IMAGENET);
      return new LinearProbe(settings).run(ft, fv);
    }
  }
}

// Counts the native operations of one DTM step of the code BEFORE the flat-buffer step (commit
// 0f1f7ae), for BENCHMARKS.md. Run by bench/compare-step-with-base.sh with the base build's
// classpath first and this build's spark-jobs jar after it (for OpProfile only).
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.morph.DtmLoss;
import org.dtmspark.core.morph.DtmLossConfig;
import org.dtmspark.core.morph.MorphSchedule;
import org.dtmspark.core.morph.MorphScheduleSampler;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.AdamWConfig;
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.train.DtmStep;
import org.dtmspark.core.train.Seeds;
import org.dtmspark.jobs.OpProfile;

public class BaseStepOps {
  public static void main(String[] args) {
    int batch = Integer.parseInt(args[1]);
    Path traces = Path.of(args[2]);
    for (String size : args[0].split(",")) {
      VitConfig config = VitConfig.preset(size, 224, 16).withTokenHeadDim(512);
      try (NDManager manager = NDManager.newBaseManager()) {
        VisionTransformer student = VisionTransformer.initialize(config, manager, 1);
        student.parameters().requireGradients();
        ParameterGroups groups = ParameterGroups.of(student.parameters(), config.depth(), 1.0);
        try (AdamW adamW = new AdamW(AdamWConfig.PRETRAIN, groups, manager)) {
          DtmLoss loss = new DtmLoss(DtmLossConfig.DEFAULT);
          DtmStep step = new DtmStep(student, adamW, loss, 3.0);
          MorphSchedule schedule =
              MorphScheduleSampler.withDefaults(config.numPatches()).sample(Seeds.rng(0, "morph", 0));
          BlockMaskGenerator masks =
              BlockMaskGenerator.forRatio(config.gridSize(), config.gridSize(), 75.0 / 196);
          SplittableRandom rng = new SplittableRandom(7);
          int s = config.imageSize();
          float[] pixels = new float[batch * 3 * s * s];
          for (int i = 0; i < pixels.length; i++) pixels[i] = (float) rng.nextDouble();
          float[] targets = new float[batch * config.numPatches() * config.tokenHeadDim()];
          for (int i = 0; i < targets.length; i++) targets[i] = (float) rng.nextGaussian();
          for (int i = 0; i < 2; i++) {
            float[] mask = masks.sampleBatch(batch, Seeds.rng(0, "mask", i));
            try (NDScope scope = new NDScope();
                NDManager m = manager.newSubManager()) {
              NDArray px = Tensors.fromHost(m, pixels, new Shape(batch, 3, s, s));
              NDArray mk = Tensors.fromHost(m, mask, new Shape(batch, config.numPatches()));
              NDArray tg =
                  Tensors.fromHost(m, targets, new Shape(batch, config.numPatches(), config.tokenHeadDim()));
              if (i == 0) {
                step.run(px, mk, tg, schedule, 1e-4);
                continue;
              }
              OpProfile.Counts whole =
                  OpProfile.count(() -> step.run(px, mk, tg, schedule, 1e-4), traces.resolve(size + "-base-step.json"));
              // The base step's forward and backward, exactly as its DtmStep.run wrote them.
              OpProfile.Counts fb =
                  OpProfile.count(
                      () -> {
                        NDArray input = ImageNormalization.IMAGENET.apply(px);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                          NDArray features = student.forwardFeatures(input, mk, true, null);
                          NDArray online = student.predictTokens(features);
                          gc.backward(loss.compute(online, tg.stopGradient(), schedule));
                        }
                      },
                      traces.resolve(size + "-base-forward-backward.json"));
              System.out.printf(
                  "| %s 224/16 (base) | %d | %d | %d | %d |%n",
                  size, batch, whole.ops(), fb.ops(), whole.ops() - fb.ops());
              System.out.println("outside: " + whole.ops() + " - " + fb.ops());
            }
          }
        }
      }
    }
  }
}

package org.dtmspark.jobs.pretrain;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.io.CheckpointIO;
import org.dtmspark.core.io.IOConsumer;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.Teachers;
import org.dtmspark.core.train.Batch;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.core.train.Pretrainer;
import org.dtmspark.core.train.RunOutput;
import org.dtmspark.data.Datasets;
import org.dtmspark.data.cache.ShardTargetStore;
import org.dtmspark.jobs.HadoopConf;
import org.dtmspark.sync.RingAllReduce;
import org.dtmspark.sync.RingOrder;
import org.dtmspark.sync.SyncOptions;
import org.dtmspark.sync.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one rank of {@link DistributedPretrainJob} does in its barrier task:
 *
 * <ol>
 *   <li>rank = partition id; device = the GPU Spark assigned to the task, the CPU when none;
 *   <li>sets libtorch's intra-op threads to the task's CPUs ({@link TaskResources});
 *   <li>opens its all-reduce endpoint and, through the barrier's {@code allGather}, learns every
 *       rank's address and device and the checkpoint rank 0 chose to resume from (so all ranks
 *       agree); the ring goes round the ranks ordered by (host, device) ({@link RingOrder});
 *   <li>builds the authenticated ring, checking that every rank has the same model, data and
 *       targets (the fingerprint);
 *   <li>trains its slice of every global batch with {@link Pretrainer}; rank 0 publishes
 *       checkpoints to the run directory and sends metrics to the driver.
 * </ol>
 *
 * <p>DJL's gradient collector is process-wide: one rank per JVM, enforced here.
 */
final class RankTask implements BarrierStage.RankFunction<RankTask.RankResult> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(RankTask.class);
  private static final AtomicBoolean TRAINING = new AtomicBoolean();

  private final String config;
  private final String images;
  private final DistributedPretrainJob.TargetSource targets;
  private final String output;
  private final int ranks;
  private final byte[] secret;
  private final String metricsAddress;
  private final HadoopConf hadoopConf;

  RankTask(
      String config,
      String images,
      DistributedPretrainJob.TargetSource targets,
      String output,
      int ranks,
      byte[] secret,
      String metricsAddress,
      HadoopConf hadoopConf) {
    this.config = config;
    this.images = images;
    this.targets = targets;
    this.output = output;
    this.ranks = ranks;
    this.secret = secret.clone();
    this.metricsAddress = metricsAddress;
    this.hadoopConf = hadoopConf;
  }

  /**
   * What a rank reports to the driver.
   *
   * @param rank the rank
   * @param finalStep global step reached
   * @param finalLoss loss of the last step, averaged over the ranks
   * @param imagesPerSecond throughput of all ranks together, as this rank saw it
   * @param checkpoint the final checkpoint (rank 0), else empty
   */
  record RankResult(
      int rank, long finalStep, double finalLoss, double imagesPerSecond, String checkpoint)
      implements Serializable {}

  @Override
  public RankResult run(BarrierTaskContext context) throws Exception {
    int rank = context.partitionId();
    if (!TRAINING.compareAndSet(false, true)) {
      throw new ConfigError(
          "Rank "
              + rank
              + " was scheduled in an executor JVM that already trains another rank: DJL's"
              + " gradient collector is process-wide; give each executor one task slot"
              + " (spark.task.cpus = spark.executor.cores)");
    }
    try {
      return train(context, rank);
    } finally {
      TRAINING.set(false);
    }
  }

  private RankResult train(BarrierTaskContext context, int rank) throws Exception {
    PretrainSettings settings = DistributedPretrainJob.settings(config);
    var distributed = settings.distributed();
    Configuration conf = hadoopConf.get();
    RunDirectory run = new RunDirectory(conf, new org.apache.hadoop.fs.Path(output));
    Device device = device(context);
    int threads =
        TaskResources.intraOpThreads(
            System.getProperty(TaskResources.THREADS_PROPERTY), context.cpus());
    JniUtils.setNumThreads(threads);
    String host = hostOf(context.getTaskInfos()[rank].address());

    try (RingAllReduce.Endpoint endpoint = RingAllReduce.listen(host)) {
      String resume =
          rank == 0 ? run.latestCheckpoint().map(c -> c.path().toString()).orElse("") : "";
      int deviceIndex = device.isGpu() ? device.getDeviceId() : -1;
      String[] gathered =
          context.allGather(endpoint.address() + "\n" + deviceIndex + "\n" + resume);
      List<String> addresses = Arrays.stream(gathered).map(m -> m.split("\n", -1)[0]).toList();
      String resumeFrom = gathered[0].split("\n", -1)[2];
      // The ring goes round the hosts, not the ranks: each host carries two cross-host links.
      List<RingOrder.Member> members = new ArrayList<>();
      for (int r = 0; r < ranks; r++) {
        int gpu = Integer.parseInt(gathered[r].split("\n", -1)[1]);
        members.add(new RingOrder.Member(hostOf(addresses.get(r)), gpu));
      }
      int[] order = RingOrder.ranksInRingOrder(members);
      int position = RingOrder.positionOf(order, rank);
      List<String> ring = Arrays.stream(order).mapToObj(addresses::get).toList();
      LOG.info(
          "Rank {} of {} on {} ({}, {} intra-op threads), ring position {} of ranks {} ({}"
              + " cross-host links){}",
          rank,
          ranks,
          host,
          device,
          threads,
          position,
          Arrays.toString(order),
          RingOrder.crossHostLinks(members, order),
          resumeFrom.isEmpty() ? "" : ", resuming from " + resumeFrom);

      ImageDataset data = Datasets.open(images);
      Pretrainer pretrainer = new Pretrainer(settings);
      try (TargetsHandle handle = openTargets(settings, conf, data, device)) {
        Pretrainer.Targets source = handle.targets();
        String fingerprint =
            fingerprint(pretrainer, source, data, settings.data().streamsFor(ranks));
        SyncOptions sync =
            SyncOptions.defaults()
                .withConnectTimeout(Duration.ofSeconds(distributed.connectTimeoutSeconds()))
                .withOperationTimeout(Duration.ofSeconds(distributed.stepTimeoutSeconds()))
                .withBucketBytes(distributed.bucketMib() << 20)
                .withWire(Wire.parse(distributed.wire()));
        Optional<Path> local = Optional.empty();
        try (RingAllReduce allReduce = endpoint.connect(position, ring, secret, fingerprint, sync);
            GradientReducer reducer =
                ranks == 1
                    ? GradientReducer.LOCAL
                    : new AllReduceGradientReducer(allReduce, sync.bucketBytes() / Float.BYTES)) {
          if (!resumeFrom.isEmpty()) {
            local = Optional.of(run.download(new org.apache.hadoop.fs.Path(resumeFrom)));
          }
          Pretrainer.Replica replica = new Pretrainer.Replica(rank, ranks, reducer, device);
          try (RunOutput out =
              rank == 0
                  ? new Rank0Output(run, metricsAddress, secret)
                  : new DataReadOutput(metricsAddress, secret)) {
            Pretrainer.Outcome outcome = pretrainer.run(data, source, replica, out, local);
            return new RankResult(
                rank,
                outcome.finalStep(),
                outcome.finalLoss(),
                outcome.imagesPerSecond(),
                outcome.checkpoint());
          }
        } finally {
          local.ifPresent(p -> RunDirectory.deleteLocal(p.getParent()));
        }
      }
    }
  }

  /** The targets of this rank and what must be closed after training. */
  private record TargetsHandle(Pretrainer.Targets targets, AutoCloseable resource)
      implements AutoCloseable {
    @Override
    public void close() throws Exception {
      resource.close();
    }
  }

  private TargetsHandle openTargets(
      PretrainSettings settings, Configuration conf, ImageDataset data, Device device)
      throws IOException {
    if (targets.cache() != null) {
      ShardTargetStore store = TargetStores.open(conf, targets.cache(), data, "--images " + images);
      return new TargetsHandle(new Pretrainer.Cached(store), store);
    }
    Path teacherPath = Path.of(targets.teacher());
    DataType compute =
        device.isGpu() && Teachers.supportsFloat16(teacherPath)
            ? DataType.FLOAT16
            : DataType.FLOAT32;
    Teacher teacher =
        Teachers.open(
            teacherPath,
            settings.teacher().normalization(),
            settings.teacher().useTokenHead(),
            settings.model().imageSize(),
            settings.model().patchSize(),
            device,
            compute);
    return new TargetsHandle(new Pretrainer.Online(teacher), teacher);
  }

  /**
   * What every rank must agree on: code, model, data, targets, the number of data streams, and the
   * resolved settings.
   */
  private String fingerprint(
      Pretrainer pretrainer, Pretrainer.Targets source, ImageDataset data, int streams) {
    String identity =
        CheckpointIO.codeVersion()
            + "\n"
            + pretrainer.studentConfig(source.dim())
            + "\n"
            + data.id()
            + " "
            + data.size()
            + "\n"
            + "streams "
            + streams
            + "\n"
            + source.id()
            + "\n"
            + config;
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
      return pretrainer.studentConfig(source.dim()).name()
          + " data "
          + data.size()
          + " images in "
          + streams
          + " streams, sha256:"
          + HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The task's GPU when Spark assigned one ({@code gpu} resource), else the CPU; fails when the
   * task sees CUDA devices but was given none ({@link TaskResources#device}).
   */
  static Device device(BarrierTaskContext context) {
    ResourceInformation gpu = context.resourcesJMap().get("gpu");
    String[] given = gpu == null ? new String[0] : gpu.addresses();
    return TaskResources.device(Engine.getInstance().getGpuCount(), given);
  }

  /** The host of {@code host:port}, {@code [v6]:port} or a bare host. */
  static String hostOf(String address) {
    if (address.startsWith("[") && address.indexOf(']') > 0) {
      return address.substring(1, address.indexOf(']'));
    }
    int colon = address.lastIndexOf(':');
    return colon > 0 && address.indexOf(':') == colon ? address.substring(0, colon) : address;
  }

  /** The output of ranks other than 0: only their bytes read per epoch, to the driver. */
  private static final class DataReadOutput implements RunOutput {
    private final MetricsChannel.Sender sender;

    DataReadOutput(String metricsAddress, byte[] secret) throws IOException {
      this.sender = new MetricsChannel.Sender(metricsAddress, secret);
    }

    @Override
    public void metrics(Map<String, Object> record) {}

    @Override
    public void dataRead(int rank, Batch.DataRead read) throws IOException {
      sender.send(RunOutput.dataReadRecord(rank, read));
    }

    @Override
    public String checkpoint(String name, IOConsumer<Path> writer) {
      return "";
    }

    @Override
    public void close() throws IOException {
      sender.close();
    }
  }

  /** Rank 0's output: checkpoints into the run directory, metrics to the driver. */
  private static final class Rank0Output implements RunOutput {
    private final RunDirectory run;
    private final MetricsChannel.Sender sender;

    Rank0Output(RunDirectory run, String metricsAddress, byte[] secret) throws IOException {
      this.run = run;
      this.sender = new MetricsChannel.Sender(metricsAddress, secret);
    }

    @Override
    public void started(long firstStep, long endStep) throws IOException {
      sender.send(Map.of("event", "start", "first_step", firstStep, "end_step", endStep));
    }

    @Override
    public void metrics(Map<String, Object> record) throws IOException {
      sender.send(record);
    }

    @Override
    public String checkpoint(String name, IOConsumer<Path> writer) throws IOException {
      return run.publish(name, writer).toString();
    }

    @Override
    public void close() throws IOException {
      sender.close();
    }
  }
}

package org.dtmspark.jobs;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.dtmspark.core.metrics.ProgressMeter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Log lines with rate and ETA for the tasks of every stage of a job, beside the Spark UI. Events
 * arrive on Spark's listener-bus thread, one at a time.
 */
public final class StageProgress extends SparkListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StageProgress.class);

  private final org.apache.spark.SparkContext context;
  private final String job;
  private final Map<Integer, ProgressMeter> meters = new HashMap<>();
  private final Map<Integer, Long> done = new HashMap<>();

  private StageProgress(org.apache.spark.SparkContext context, String job) {
    this.context = context;
    this.job = job;
  }

  /** Starts logging the stages run on {@code context} until closed. */
  public static StageProgress attach(org.apache.spark.SparkContext context, String job) {
    StageProgress progress = new StageProgress(context, job);
    context.addSparkListener(progress);
    return progress;
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted event) {
    var info = event.stageInfo();
    String name = job + " stage " + info.stageId() + " (" + info.name() + ") tasks";
    meters.put(
        info.stageId(), new ProgressMeter(name, info.numTasks(), LOG, Duration.ofSeconds(10)));
    done.put(info.stageId(), 0L);
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd event) {
    ProgressMeter meter = meters.get(event.stageId());
    if (meter != null && event.taskInfo().successful()) {
      long n = done.merge(event.stageId(), 1L, Long::sum);
      meter.update(n, Map.of());
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted event) {
    ProgressMeter meter = meters.remove(event.stageInfo().stageId());
    done.remove(event.stageInfo().stageId());
    if (meter != null) {
      meter.finish();
    }
  }

  @Override
  public void close() {
    context.removeSparkListener(this);
  }
}

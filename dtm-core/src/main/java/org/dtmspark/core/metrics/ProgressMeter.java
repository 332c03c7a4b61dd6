package org.dtmspark.core.metrics;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Logs the progress of long work at most once per interval: {@code what: done/total (pct%) rate X/s
 * (recent Y/s) ETA hh:mm:ss key=value...}. The overall rate is measured from construction; the
 * recent rate since the previous line; the ETA uses the recent rate when there is one.
 *
 * <p>Thread-safe. A negative total means unknown: percentage and ETA are left out.
 */
public final class ProgressMeter {
  private final String what;
  private final long total;
  private final Consumer<String> sink;
  private final long everyNanos;
  private final LongSupplier nanoTime;
  private final long startNanos;
  private long lastLineNanos;
  private long lastLineDone;
  private long done;
  private Map<String, Object> extra = Map.of();

  /** Logs at INFO on {@code log}, timing with {@link System#nanoTime()}. */
  public ProgressMeter(String what, long total, Logger log, Duration every) {
    this(what, total, log::info, every, System::nanoTime);
  }

  /**
   * Sends lines to {@code sink}, timing with {@code nanoTime} (e.g. a fake clock in tests).
   *
   * @param every minimum time between two lines of {@link #update}, not negative
   */
  public ProgressMeter(
      String what, long total, Consumer<String> sink, Duration every, LongSupplier nanoTime) {
    this.what = Objects.requireNonNull(what, "what");
    this.total = total;
    this.sink = Objects.requireNonNull(sink, "sink");
    if (every.isNegative()) {
      throw new IllegalArgumentException(
          "Progress interval must not be negative, cannot be: " + every);
    }
    this.everyNanos = every.toNanos();
    this.nanoTime = nanoTime;
    this.startNanos = nanoTime.getAsLong();
    this.lastLineNanos = startNanos;
  }

  /**
   * Records that {@code done} units are finished, and logs a line when at least the interval has
   * passed since the previous one.
   *
   * @param extra values appended as {@code key=value}, in iteration order; may be null
   */
  public synchronized void update(long done, Map<String, Object> extra) {
    this.done = done;
    this.extra = extra == null ? Map.of() : extra;
    long now = nanoTime.getAsLong();
    if (now - lastLineNanos >= everyNanos) {
      sink.accept(progressLine(now));
      lastLineNanos = now;
      lastLineDone = done;
    }
  }

  /** Logs the final line: units done, elapsed time and overall rate. */
  public synchronized void finish() {
    long now = nanoTime.getAsLong();
    double seconds = (now - startNanos) / 1e9;
    StringBuilder b = new StringBuilder(what).append(": finished ").append(done);
    if (total >= 0) {
      b.append('/').append(total);
    }
    b.append(" in ").append(hms(seconds));
    b.append(" rate ").append(rate(done, seconds)).append("/s");
    appendExtra(b);
    sink.accept(b.toString());
  }

  private String progressLine(long now) {
    double seconds = (now - startNanos) / 1e9;
    double recentSeconds = (now - lastLineNanos) / 1e9;
    double overall = seconds > 0 ? done / seconds : Double.NaN;
    double recent =
        recentSeconds > 0 && lastLineNanos != startNanos
            ? (done - lastLineDone) / recentSeconds
            : Double.NaN;
    StringBuilder b = new StringBuilder(what).append(": ").append(done);
    if (total >= 0) {
      b.append('/').append(total);
      double pct = total == 0 ? 100.0 : 100.0 * done / total;
      b.append(String.format(Locale.ROOT, " (%.1f%%)", pct));
    }
    b.append(" rate ").append(rate(done, seconds)).append("/s");
    if (!Double.isNaN(recent)) {
      b.append(" (recent ").append(format(recent)).append("/s)");
    }
    if (total >= 0) {
      double etaRate = !Double.isNaN(recent) && recent > 0 ? recent : overall;
      long remaining = Math.max(0, total - done);
      b.append(" ETA ");
      if (remaining == 0) {
        b.append(hms(0));
      } else if (etaRate > 0) {
        b.append(hms(remaining / etaRate));
      } else {
        b.append("--:--:--");
      }
    }
    appendExtra(b);
    return b.toString();
  }

  private void appendExtra(StringBuilder b) {
    for (Map.Entry<String, Object> e : extra.entrySet()) {
      b.append(' ').append(e.getKey()).append('=');
      Object v = e.getValue();
      b.append(v instanceof Double || v instanceof Float ? format(((Number) v).doubleValue()) : v);
    }
  }

  private static String rate(long done, double seconds) {
    return seconds > 0 ? format(done / seconds) : "-";
  }

  /** Four significant digits below 1000, whole numbers up to 1e9, scientific beyond. */
  static String format(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return String.valueOf(v);
    }
    double a = Math.abs(v);
    if (a >= 1000 && a < 1e9) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (a != 0 && (a < 1e-3 || a >= 1e9)) {
      return String.format(Locale.ROOT, "%.3e", v);
    }
    String s = String.format(Locale.ROOT, "%.4g", v);
    if (s.indexOf('.') >= 0) {
      s = s.replaceAll("0+$", "");
      if (s.endsWith(".")) {
        s = s.substring(0, s.length() - 1);
      }
    }
    return s;
  }

  /** Formats seconds as {@code hh:mm:ss}, hours unbounded, rounded up to the next second. */
  static String hms(double seconds) {
    long s = (long) Math.ceil(Math.max(0, seconds));
    return String.format(Locale.ROOT, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
}

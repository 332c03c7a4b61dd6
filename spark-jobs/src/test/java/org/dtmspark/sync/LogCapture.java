package org.dtmspark.sync;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/** Collects what one class logs (through log4j2, the slf4j binding of the tests) while open. */
final class LogCapture extends AbstractAppender implements AutoCloseable {
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final String loggerName;
  private final LoggerContext context;
  private final LoggerConfig config;

  private LogCapture(Class<?> type) {
    super("capture-" + type.getSimpleName(), null, null, true, Property.EMPTY_ARRAY);
    this.loggerName = type.getName();
    this.context = (LoggerContext) LogManager.getContext(false);
    this.config = context.getConfiguration().getLoggerConfig(loggerName);
  }

  static LogCapture of(Class<?> type) {
    LogCapture capture = new LogCapture(type);
    capture.start();
    capture.config.addAppender(capture, Level.ALL, null);
    capture.context.updateLoggers();
    return capture;
  }

  @Override
  public void append(LogEvent event) {
    if (event.getLoggerName().equals(loggerName)) {
      lines.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
    }
  }

  /** "LEVEL message" of every event so far. */
  List<String> lines() {
    return List.copyOf(lines);
  }

  @Override
  public void close() {
    config.removeAppender(getName());
    context.updateLoggers();
    stop();
  }
}

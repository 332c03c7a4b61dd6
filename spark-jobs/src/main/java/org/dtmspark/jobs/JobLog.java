package org.dtmspark.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.util.Locale;
import java.util.Map;
import org.dtmspark.core.config.ConfigLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every job says when it starts. */
public final class JobLog {
  private static final Logger LOG = LoggerFactory.getLogger(JobLog.class);

  private JobLog() {}

  /** Logs the effective configuration with any key that looks like a secret masked. */
  public static void effectiveConfig(String job, Config config) {
    Config masked = config;
    for (Map.Entry<String, ?> e : config.entrySet()) {
      String key = e.getKey().toLowerCase(Locale.ROOT);
      if (key.contains("secret") || key.contains("password") || key.contains("token-key")) {
        masked = masked.withValue(e.getKey(), ConfigValueFactory.fromAnyRef("*****"));
      }
    }
    LOG.info("{}: effective configuration\n{}", job, ConfigLoader.render(masked));
  }
}

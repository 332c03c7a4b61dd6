package org.dtmspark.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dtmspark.core.config.ConfigLoader;
import picocli.CommandLine.Option;

/** The configuration options every training subcommand shares. */
final class ConfigOptions {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "HOCON configuration file; repeatable, later files win over earlier ones.")
  List<Path> files = new ArrayList<>();

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override one key (e.g. --set pretrain.train.epochs=5); wins over files.")
  List<String> overrides = new ArrayList<>();

  /** Loads the effective configuration with {@code extra} overrides applied last. */
  Config load(List<String> extra) {
    List<String> all = new ArrayList<>(overrides);
    all.addAll(extra);
    return ConfigLoader.load(files, all);
  }
}

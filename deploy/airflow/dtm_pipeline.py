"""dtm-spark pipeline: shard -> targets -> pretrain -> probe, each stage a Spark application.

Every stage is a BashOperator that runs deploy/airflow/dtm-stage, which submits the stage through
deploy/bin/dtm-submit (spark-submit --deploy-mode cluster on YARN or Kubernetes) and waits for it.
BashOperator rather than the Spark provider's SparkSubmitOperator: dtm-submit is the one place
that knows the settings a stage needs (the Java 17 --add-opens list, GPU scheduling, one task per
executor, barrier-safe settings, pod templates), so the DAG does not keep a second copy of them
in Python, and the Airflow worker needs no Spark provider package, only a Spark 3.5 client
(and kubectl credentials or a Hadoop client configuration). spark-submit waits for the
application in cluster mode (spark.yarn.submit.waitAppCompletion and
spark.kubernetes.submission.waitAppCompletion default to true) and exits non-zero when it
fails, so each task's state is the application's.

Re-runs are safe (see dtm-stage --help): shard is skipped when its manifest exists, targets and
pretrain resume, probe rewrites its JSON atomically. max_active_runs=1, as two runs of this DAG
write the same output root.

Settings: each DAG param, else the Airflow Variable named dtm_<param>, else the default:
  target (yarn|k8s), input (ImageNet root), output_root, teacher, layout, val_labels, views,
  ranks, gpu_executors, shard_executors, pretrain_config, reshard, submit_opts, and dtm_home
  (this repository on the worker, default /opt/dtm-spark).
"""

from __future__ import annotations

import datetime

from airflow import DAG
from airflow.models.param import Param

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

# param name -> (environment variable of dtm-stage, default)
SETTINGS = {
    "target": ("DTM_TARGET", "yarn"),
    "input": ("DTM_INPUT", ""),
    "output_root": ("DTM_OUTPUT_ROOT", ""),
    "teacher": ("DTM_TEACHER", ""),
    "layout": ("DTM_LAYOUT", ""),
    "val_labels": ("DTM_VAL_LABELS", ""),
    "views": ("DTM_VIEWS", "4"),
    "ranks": ("DTM_RANKS", "8"),
    "gpu_executors": ("DTM_GPU_EXECUTORS", ""),
    "shard_executors": ("DTM_SHARD_EXECUTORS", "16"),
    "pretrain_config": ("DTM_PRETRAIN_CONFIG", "conf/pretrain-vit-b16.conf"),
    "reshard": ("DTM_RESHARD", "false"),
    "submit_opts": ("DTM_SUBMIT_OPTS", ""),
}


def _setting(name: str, default: str) -> str:
    """Jinja: the run's param when given, else Variable dtm_<name>, else the default.

    Rendered when the task runs, so Variables are read then and not when the DAG file is parsed.
    """
    return (
        "{{ params.%s if params.%s not in (None, '') else var.value.get('dtm_%s', %r) }}"
        % (name, name, name, default)
    )


STAGE_ENV = {env: _setting(name, default) for name, (env, default) in SETTINGS.items()}
STAGE_ENV["DTM_HOME"] = _setting("dtm_home", "/opt/dtm-spark")

with DAG(
    dag_id="dtm_pipeline",
    description="DTM pretraining: shard -> targets -> pretrain -> probe on Spark",
    schedule=None,
    start_date=datetime.datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": datetime.timedelta(minutes=10),
        "retry_exponential_backoff": True,
    },
    params={
        "target": Param("", type="string", enum=["", "yarn", "k8s"],
                        description="Cluster manager; empty: Variable dtm_target, else yarn."),
        "input": Param("", type="string", description="ImageNet root (hdfs://, s3a://, path)."),
        "output_root": Param("", type="string",
                             description="Root of shards/, targets/ and pretrain/."),
        "teacher": Param("", type="string",
                         description="Teacher checkpoint dir or TorchScript file (shared path)."),
        "layout": Param("", type="string", description="shard --layout (default: detected)."),
        "val_labels": Param("", type="string", description="shard --val-labels."),
        "views": Param("", type="string", description="Views per image in the target cache."),
        "ranks": Param("", type="string", description="GPU ranks of pretrain."),
        "gpu_executors": Param("", type="string",
                               description="GPU executors of targets (default: ranks)."),
        "shard_executors": Param("", type="string", description="CPU executors of shard."),
        "pretrain_config": Param("", type="string", description="HOCON recipe of pretrain."),
        "reshard": Param("", type="string", enum=["", "true", "false"],
                         description="true: shard again over a complete output."),
        "submit_opts": Param("", type="string",
                             description="Extra dtm-submit options, e.g. --queue gpu."),
        "dtm_home": Param("", type="string",
                          description="This repository on the worker (deploy/ is used)."),
    },
    tags=["dtm-spark", "spark", "gpu"],
) as dag:
    stages = [
        BashOperator(
            task_id=stage,
            # Values reach bash through the environment, never pasted into the command line.
            bash_command=f'"$DTM_HOME/deploy/airflow/dtm-stage" {stage}',
            env=STAGE_ENV,
            append_env=True,
        )
        for stage in ("shard", "targets", "pretrain", "probe")
    ]
    for upstream, downstream in zip(stages, stages[1:]):
        upstream >> downstream

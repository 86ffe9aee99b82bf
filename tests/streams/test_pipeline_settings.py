"""Detector settings reach replay and the streaming worker alike (the config bug of issue 10):

- every detector setting has its environment variable and ``distillwatch config`` lists it;
- ``replay`` with ``DW_LATENESS_S=30`` differs from the defaults and equals an engine built
  with that configuration;
- on the real broker, a worker and replay under the same non-default settings (one per stage)
  raise the same alert ids.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
from pathlib import Path

import orjson
import pytest

from distillwatch.models.config import AccountConfig, CampaignConfig, ClusterConfig, DetectorConfig
from distillwatch.models.engine import Engine
from distillwatch.streams import settings
from distillwatch.streams.replay import replay
from tests.streams import pipeline

NON_DEFAULT = {"DW_LATENESS_S": "30", "DW_CLUSTER_SCORE_EVERY_S": "120"}


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from distillwatch.streams.simulation.world import simulate

    path = tmp_path_factory.mktemp("settings") / "stream.jsonl"
    simulate(path, path.with_suffix(".csv"), seed=3, accounts=300, hours=4.0)
    return path


def _ids(out: io.BytesIO) -> list[str]:
    return [orjson.loads(line)["alert_id"] for line in out.getvalue().splitlines()]


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for _, _, env in settings.detector_settings():
        monkeypatch.delenv(env, raising=False)


def test_every_detector_setting_has_its_own_variable(monkeypatch):
    _clean_env(monkeypatch)
    rows = settings.detector_settings()
    assert len(rows) == sum(len(dataclasses.fields(c)) for c in (AccountConfig, ClusterConfig, CampaignConfig))
    plain = {f.metadata["env"] for f in dataclasses.fields(settings.Settings) if f.metadata["env"]}
    envs = [env for _, _, env in rows]
    assert len(set(envs)) == len(envs) and not set(envs) & plain
    assert ("account", "lateness_s", "DW_LATENESS_S") in rows
    assert ("cluster", "max_members", "DW_CLUSTER_MAX_MEMBERS") in rows
    assert ("campaign", "quiet_s", "DW_CAMPAIGN_QUIET_S") in rows
    monkeypatch.setenv("DW_LATENESS_S", "30")
    monkeypatch.setenv("DW_CLUSTER_MAX_MEMBERS", "200")
    monkeypatch.setenv("DW_CAMPAIGN_QUIET_S", "600")
    cfg = settings.detector_config(settings.load())
    assert cfg == DetectorConfig(AccountConfig(lateness_s=30.0), ClusterConfig(max_members=200),
                                 CampaignConfig(quiet_s=600.0))
    assert isinstance(cfg.cluster.max_members, int)


def test_a_bad_detector_value_is_one_line(monkeypatch):
    _clean_env(monkeypatch)
    monkeypatch.setenv("DW_CLUSTER_MAX_MEMBERS", "many")
    with pytest.raises(SystemExit, match="DW_CLUSTER_MAX_MEMBERS='many' is not a valid int"):
        settings.load()


def test_config_command_lists_detector_settings(monkeypatch):
    _clean_env(monkeypatch)
    out = subprocess.run([pipeline.CLI, "config"], env={**os.environ, "DW_LATENESS_S": "30"},
                         capture_output=True, text=True, check=True).stdout
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    for section, name, env in settings.detector_settings():
        assert lines[f"{section}.{name}"][0] == env
    assert lines["account.lateness_s"] == ["DW_LATENESS_S", "30.0"]
    assert lines["cluster.score_every_s"] == ["DW_CLUSTER_SCORE_EVERY_S", "300.0"]


def test_replay_honours_detector_settings(monkeypatch, stream):
    _clean_env(monkeypatch)
    default = io.BytesIO()
    replay([str(stream)], default)
    monkeypatch.setenv("DW_LATENESS_S", "30")
    tuned = io.BytesIO()
    summary = replay([str(stream)], tuned)
    assert summary.late > 0
    assert _ids(tuned) != _ids(default)
    direct = io.BytesIO()
    engine = Engine(4, 4, DetectorConfig(AccountConfig(lateness_s=30.0)))
    replay([str(stream)], direct, engine=engine)
    assert direct.getvalue() == tuned.getvalue()
    monkeypatch.setenv("DW_CLUSTER_SCORE_EVERY_S", "120")  # a cluster-stage setting counts too
    both = io.BytesIO()
    replay([str(stream)], both)
    assert _ids(both) != _ids(tuned)


@pytest.mark.kafka
@pytest.mark.slow
def test_worker_equals_replay_under_non_default_settings(monkeypatch, kafka_bootstrap, topic_prefix, tmp_path,
                                                         stream):
    _clean_env(monkeypatch)
    default = io.BytesIO()
    replay([str(stream)], default)
    for env, value in NON_DEFAULT.items():
        monkeypatch.setenv(env, value)
    tuned = io.BytesIO()
    replay([str(stream)], tuned)
    expected = set(_ids(tuned))
    assert expected != set(_ids(default)), "the settings should change the alerts"
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path, **NON_DEFAULT)
    pipeline.publish(env, stream, batch=50)
    with pipeline.worker(env, tmp_path / "w.log"):
        got = pipeline.alert_ids(kafka_bootstrap, env, expected)
    assert set(got) == expected, pipeline.diff(set(got), expected)

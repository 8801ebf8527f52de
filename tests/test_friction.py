"""Friction a new user met: `train --device/--threads`, an accelerate GPU config on a machine without
GPUs, `langs` listing sets this machine does not have (eng's SemRel), and a test suite that wrote
into the user's own cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, needs_shared, run_cli, run_cli_here

from afroadv.accelerate_env import check_accelerate_env, gpus_requested
from afroadv.errors import AfroadvError

# ----------------------------------------------------------------------------- the tests' own cache


def test_tests_never_use_the_users_cache():
    from afroadv.resources import cache_root

    home_cache = (Path.home() / ".cache" / "afroadv").resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    users = {home_cache} | ({(Path(xdg) / "afroadv").resolve()} if xdg else set())
    here = cache_root().resolve()
    assert not any(here == u or u in here.parents for u in users), here
    # and a command run the way the tests run them (a subprocess) inherits it
    r = subprocess.run([sys.executable, "-c", "from afroadv.resources import cache_root; print(cache_root())"],
                       capture_output=True, text=True, check=True)
    assert Path(r.stdout.strip()).resolve() == here


def test_module_cache_is_private_and_restored(module_cache):
    from afroadv.resources import cache_root

    assert cache_root() == module_cache and "afroadv-cache" in module_cache.name


# ----------------------------------------------------------------------------- train --device / --threads


@pytest.mark.parametrize("args,msg", [
    (["--device", "gpu"], "--device: unknown device 'gpu'"),
    (["--device", "mps"], "train runs on cpu or cuda"),
    (["--device", "cuda:1"], "CUDA_VISIBLE_DEVICES"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--threads", "two"], "--threads"),
])
def test_train_bad_device_or_threads_is_one_line_exit_2(tmp_path, args, msg):
    r = run_cli_here("train", "--model", "tiny-xlmr", "--out", tmp_path / "m", *args)
    assert r.returncode == 2, r.stderr
    assert msg in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "m").exists()


def test_train_cuda_without_a_gpu_is_one_line(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    r = run_cli_here("train", "--model", "tiny-xlmr", "--out", tmp_path / "m", "--device", "cuda")
    assert r.returncode == 2 and "no CUDA device is available" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_device_cpu_is_used_even_where_cuda_is_available(monkeypatch):
    torch = pytest.importorskip("torch")
    from afroadv.train import TrainOptions, _check_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert _check_device(TrainOptions(model="tiny-xlmr", out="m", device="cpu")) is False
    assert _check_device(TrainOptions(model="tiny-xlmr", out="m")) is True  # default: cuda when available


def test_train_threads_are_applied(tmp_path, module_cache):
    torch = pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    import json

    data = tmp_path / "sts.jsonl"
    data.write_text("".join(json.dumps({"sentence1": f"a man plays {i}", "sentence2": f"a man is playing {i}",
                                        "score": i / 10}) + "\n" for i in range(8)), encoding="utf-8")
    before = torch.get_num_threads()
    try:
        r = run_cli_here("train", "--model", "tiny-xlmr", "--data", data, "--max-steps", "1", "--batch-size", "4",
                         "--max-seq-length", "16", "--threads", "1", "--device", "cpu", "--out", tmp_path / "m")
        assert r.returncode == 0, r.stderr[-2000:]
        info = json.loads((tmp_path / "m" / "afroadv_train.json").read_text(encoding="utf-8"))
        assert info["training"]["threads"] == 1 and torch.get_num_threads() == 1
        assert info["training"]["device"] == "cpu" and info["options"]["threads"] == 1
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------- accelerate configs


def _launch_env(config: Path) -> dict:
    """The variables `accelerate launch --config_file CONFIG` sets in each process it starts."""
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    env = {"ACCELERATE_MIXED_PRECISION": str(cfg.get("mixed_precision", "no")),
           "ACCELERATE_USE_CPU": str(bool(cfg.get("use_cpu"))), "ACCELERATE_DYNAMO_BACKEND": "NO"}
    if cfg["distributed_type"] in ("MULTI_GPU", "FSDP"):  # torchrun
        n = str(cfg["num_processes"])
        env.update(WORLD_SIZE=n, LOCAL_WORLD_SIZE=n, RANK="0", LOCAL_RANK="0")
    return env


CONFIGS = sorted((ROOT / "configs" / "accelerate").glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_shipped_configs_need_what_they_say(config):
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    env = _launch_env(config)
    if cfg.get("use_cpu"):
        assert gpus_requested(env) == 0
        check_accelerate_env(env, gpus_here=0)  # the CPU config runs anywhere
        return
    needed = cfg["num_processes"]
    assert gpus_requested(env) == needed
    with pytest.raises(AfroadvError, match=rf"this config needs {needed} GPUs?, none found; .*configs/accelerate/cpu.yaml"):
        check_accelerate_env(env, gpus_here=0)
    check_accelerate_env(env, gpus_here=needed)  # enough GPUs: nothing to say


def test_a_cpu_config_is_shipped():
    cfg = yaml.safe_load((ROOT / "configs" / "accelerate" / "cpu.yaml").read_text(encoding="utf-8"))
    assert cfg["use_cpu"] is True and cfg["num_processes"] == 1 and cfg["mixed_precision"] == "no"


def test_outside_accelerate_nothing_is_checked():
    check_accelerate_env({}, gpus_here=0)
    check_accelerate_env({"WORLD_SIZE": "4", "LOCAL_RANK": "0"}, gpus_here=0)  # plain torchrun (gloo on CPU)
    with pytest.raises(AfroadvError, match="needs 8 GPUs, 2 found"):
        check_accelerate_env(_launch_env(ROOT / "configs" / "accelerate" / "ddp.yaml"), gpus_here=2)


def test_only_the_first_process_says_why():
    env = {**_launch_env(ROOT / "configs" / "accelerate" / "ddp.yaml"), "LOCAL_RANK": "3", "RANK": "3"}
    with pytest.raises(SystemExit) as e:
        check_accelerate_env(env, gpus_here=0)
    assert e.value.code == 2


def test_train_under_a_gpu_config_without_gpus_is_one_line(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    env = _launch_env(ROOT / "configs" / "accelerate" / "ddp.yaml")
    r = run_cli("train", "--model", "tiny-xlmr", "--max-steps", "1", "--out", tmp_path / "m", env=env)
    assert r.returncode == 2
    assert r.stderr.strip() == ("afroadv: error: accelerate launch: this config needs 8 GPUs, none found; run plain "
                                "`afroadv train` or use configs/accelerate/cpu.yaml")
    assert not (tmp_path / "m").exists()


# ----------------------------------------------------------------------------- langs lists what generate can use


def _no_shared(monkeypatch):
    import afroadv.data.catalog as catalog

    monkeypatch.setattr(catalog, "shared_data_dir", lambda: None)  # a user's clone: no ../shared/data


def _langs_row(out: str, code: str) -> list[str]:
    row = next(ln for ln in out.splitlines() if ln.startswith("│ " + code + " "))
    return [c.strip() for c in row.strip("│").split("│")]


def test_langs_lists_no_default_set_that_is_not_here(monkeypatch, tmp_path):
    from afroadv.data.catalog import available_datasets, default_dataset
    from afroadv.langs import get_language

    _no_shared(monkeypatch)
    eng = get_language("eng")
    assert available_datasets(eng) == [] and default_dataset(eng) is None
    r = run_cli_here("langs")
    assert r.returncode == 0
    row = _langs_row(r.stdout, "eng")
    assert row[4] == "-" and row[5] == "-"  # default set, datasets
    assert _langs_row(r.stdout, "hau")[4] == "semrel"  # shipped sets are still listed
    r = run_cli_here("generate", "--lang", "eng", "--recipe", "charnoise", "--out", tmp_path / "e.jsonl")
    assert r.returncode == 2 and "--dataset PATH" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "e.jsonl").exists()


def test_every_default_set_langs_lists_loads():
    from afroadv.data.catalog import default_dataset, load_dataset
    from afroadv.langs import registry

    listed = {code: default_dataset(lang) for code, lang in registry().items()}
    assert any(listed.values())
    for code, name in listed.items():
        if name:
            assert load_dataset(registry()[code]).pairs, code


@needs_shared
def test_eng_generates_where_its_semrel_set_is_found(tmp_path):
    r = run_cli_here("generate", "--lang", "eng", "--recipe", "charnoise", "--limit", "3", "--out", tmp_path / "e.jsonl")
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "e.jsonl").read_text(encoding="utf-8").splitlines()) == 3

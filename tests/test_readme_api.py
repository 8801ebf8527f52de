"""Every ```python block of the README's "## Python API" section runs, in order, in one namespace
(offline: tiny models, SemRel Hausa from ../shared/data)."""

import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, needs_shared

SECTION = "## Python API"


def api_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end != -1 else None]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_the_promised_examples():
    code = "\n".join(api_blocks())
    for call in ("afroadv.perturb(", "afroadv.generate(", ".save(", ".to_hf()", "afroadv.evaluate(\"tiny-xlmr\"",
                 "afroadv.evaluate(model", "afroadv.evaluate(encode", "afroadv.attack(", "afroadv.check("):
        assert call in code, call


@needs_shared
def test_readme_python_api_examples_run(module_cache, tmp_path, monkeypatch):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("datasets")
    monkeypatch.chdir(tmp_path)  # the examples write hau-codeswitch.jsonl and attack-out/ here
    namespace: dict = {"__name__": "readme"}
    for i, block in enumerate(api_blocks(), 1):
        exec(compile(block, f"README.md:{SECTION}:block{i}", "exec"), namespace)
    assert (tmp_path / "hau-codeswitch.jsonl").is_file() and (tmp_path / "hau-codeswitch.manifest.json").is_file()
    assert (tmp_path / "attack-out" / "summary.json").is_file()
    assert namespace["doc"]["manifest"]["models"][0]["model"] == "my-encoder"
    assert os.environ.get("AFROADV_CACHE") == str(module_cache)  # never the user's cache

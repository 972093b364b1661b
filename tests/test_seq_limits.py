"""The sequence-length limit: refused over a known max_position_embeddings, a warning
(never a refusal) where the catalog does not know it and only the shipped recipes bound it."""

from __future__ import annotations

import json

import pytest

from autorecipe import api
from autorecipe.advise.choose import checkpoint_key
from autorecipe.catalog.models import catalog_entries, resolve_model
from autorecipe.index.load import load_index
from autorecipe.layout.plan import max_seq_len
from cli_entry import one_line_error, run_cli


def _unknown_with_recipe() -> tuple[str, int, str]:
    """A supported catalog model with no max_position_embeddings and a shipped recipe:
    its id, its longest shipped recipe's length, and a mode a recipe for it trains in."""
    idx = load_index(provenance=False)
    for hf_id, entry in catalog_entries().items():
        if entry.get("max_position_embeddings") or not entry.get("supported"):
            continue
        try:
            spec = resolve_model(hf_id)
        except Exception:  # noqa: BLE001 - entries missing other fields are not this test's
            continue
        key = checkpoint_key(hf_id)
        modes = [r.mode for r in idx.recipes if r.mode and checkpoint_key(r.hf_model_id) == key]
        if (limit := max_seq_len(idx, spec)) and modes:
            return hf_id, limit, modes[0]
    pytest.skip("every supported catalog model with a shipped recipe knows its positions")


def _unchecked(findings) -> str:
    notes = [f for f in findings if f.id == "seq_len_unchecked"]
    assert len(notes) == 1 and notes[0].severity == "warning", findings
    assert "\n" not in notes[0].message
    return notes[0].message


def test_kimi_k2_positions_come_from_its_config():
    # config.json of moonshotai/Kimi-K2-Instruct: max_position_embeddings 131072
    assert resolve_model("moonshotai/Kimi-K2-Instruct").max_position_embeddings == 131072


def test_kimi_k2_recommend_at_32k_is_not_refused():
    proc = run_cli(
        "recommend", "--model", "moonshotai/Kimi-K2-Instruct", "--mode", "pretrain",
        "--gpus", "256", "--gpu-type", "h100", "--seq-len", "32768", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "supports" not in proc.stdout
    assert not [f for f in out["findings"] if f["id"] == "seq_len_unchecked"]


def test_unknown_positions_warn_instead_of_refusing():
    model, shipped, _ = _unknown_with_recipe()
    seq = shipped * 4
    words = (f"longest shipped recipe for {model} runs {shipped} tokens", "max_position_embeddings")
    est = api.estimate(model, gpus=64, gpu_type="h100", seq_len=seq, cp=8, pp=2, mbs=1)
    message = _unchecked(est.findings)
    assert all(w in message for w in words) and "supports" not in message
    plan = api.plan(model, gpus=64, gpu_type="h100", seq_len=seq, top=2)
    assert all(_unchecked(c.findings) == message for c in plan.candidates)


def test_unknown_positions_recommend_warns():
    model, shipped, mode = _unknown_with_recipe()
    seq = shipped * 4
    proc = run_cli(
        "recommend", "--model", model, "--mode", mode, "--gpus", "64",
        "--gpu-type", "h100", "--seq-len", str(seq), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    notes = [f for f in json.loads(proc.stdout)["findings"] if f["id"] == "seq_len_unchecked"]
    assert len(notes) == 1 and notes[0]["severity"] == "warning", notes
    assert f"longest shipped recipe for {model} runs {shipped} tokens" in notes[0]["message"]


def test_within_the_shipped_recipes_no_warning():
    model, shipped, _ = _unknown_with_recipe()
    est = api.estimate(model, gpus=64, gpu_type="h100", seq_len=shipped, pp=2)
    assert not [f for f in est.findings if f.id == "seq_len_unchecked"]


def test_known_positions_still_refuse():
    proc = run_cli(
        "estimate", "--model", "moonshotai/Kimi-K2-Instruct", "--gpus", "256",
        "--gpu-type", "h100", "--seq-len", "1000000",
    )  # fmt: skip
    one_line_error(proc, "--seq-len 1000000 is over what moonshotai/Kimi-K2-Instruct supports")
    proc = run_cli(
        "recommend", "--model", "llama3-8b", "--mode", "pretrain", "--gpus", "8",
        "--gpu-type", "h100", "--seq-len", "10000000",
    )  # fmt: skip
    one_line_error(proc, "is over what meta-llama/Meta-Llama-3-8B supports", "131072")


def test_a_config_without_positions_warns(tmp_path):
    # a real config.json that omits max_position_embeddings: nothing bounds the length
    cfg = {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 1024,
        "intermediate_size": 4096, "num_hidden_layers": 8, "num_attention_heads": 16,
        "num_key_value_heads": 8, "vocab_size": 32000, "tie_word_embeddings": False,
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    est = api.estimate(str(path), gpus=8, gpu_type="h100", seq_len=65536, cp=8)
    assert "no shipped recipe trains" in _unchecked(est.findings)


# max_position_embeddings from the vendors' own cards (scripts/build_catalog.py CORRECTIONS)
_VENDOR_LIMITS = {
    "mistralai/Ministral-3-14B-Instruct-2512": 262144,  # card: 256k context window
    "nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16": 131072,  # card: input + output 128K
    "LGAI-EXAONE/EXAONE-4.5-33B": 262144,  # EXAONE-4.5 README: 256K, --max-model-len 262144
    "stepfun-ai/Step-3.7-Flash": 262144,  # Step-3.7-Flash README: 256k context window
    "google/gemma-4-E4B-it": 131072,  # Gemma 4 docs/card: small models 128K
    "google/gemma-4-26B-A4B-it": 262144,  # Gemma 4 docs/card: medium models 256K
}
# ... and from a dump of the checkpoint's own config.json
_CONFIG_LIMITS = {"zai-org/GLM-4.5V": 65536}  # text_config.max_position_embeddings


def test_vendor_card_limits_are_in_the_bundled_catalog():
    entries = catalog_entries()
    for hf_id, limit in _VENDOR_LIMITS.items():
        assert entries[hf_id]["max_position_embeddings"] == limit, hf_id
        reasons = [c["reason"] for c in entries[hf_id]["extra"]["corrections"]]
        assert any(r.startswith("vendor ") for r in reasons), reasons
    for hf_id, limit in _CONFIG_LIMITS.items():
        assert entries[hf_id]["max_position_embeddings"] == limit, hf_id


def test_glm_45v_is_refused_over_its_64k_context():
    # the shared table says 131,072 for it; its config says 65,536 (GLM-4.5-Air's is 131,072)
    proc = run_cli("recommend", "-m", "zai-org/GLM-4.5V", "--mode", "sft", "-n", "16",
                   "-g", "h100", "-s", "131072")  # fmt: skip
    one_line_error(proc, "zai-org/GLM-4.5V supports: 65536 tokens")


@pytest.mark.parametrize(
    "model",
    ["mistralai/Ministral-3-14B-Instruct-2512", "nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16"],
)
def test_vendor_card_limit_refuses_one_over_and_accepts_the_limit(model):
    limit = _VENDOR_LIMITS[model]
    assert resolve_model(model).max_position_embeddings == limit
    over = str(limit + 16)
    proc = run_cli(
        "estimate", "--model", model, "--gpus", "64", "--gpu-type", "h100",
        "--seq-len", over, "--cp", "8",
    )  # fmt: skip
    one_line_error(proc, f"--seq-len {over} is over what {model} supports", str(limit))
    est = api.estimate(model, gpus=64, gpu_type="h100", seq_len=limit, cp=8)
    assert not [f for f in est.findings if f.id == "seq_len_unchecked"]
    proc = run_cli(
        "estimate", "--model", model, "--gpus", "64", "--gpu-type", "h100",
        "--seq-len", str(limit), "--cp", "8",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

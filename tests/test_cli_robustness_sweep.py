"""Odd and bad input from a demanding user: each answer is one line on stderr that says
what is wrong and what would be right, exit 2, never an internal error (exit 3).

Run through the real entry point (`autorecipe.cli:main` in a subprocess), so the exit
codes and the one-line form are what a shell sees."""

from __future__ import annotations

import pytest

from cli_entry import one_line_error, run_cli

ESTIMATE = ["estimate", "--model", "llama3-8b", "--gpus", "8", "--gpu-type", "h100"]
PLAN = ["plan", "--model", "llama3-8b", "--gpus", "8", "--gpu-type", "h100"]
CHECK_MOE = ["check", "--recipe", "qwen3_30b_a3b_pretrain_config"]
CHECK_DENSE = ["check", "--recipe", "llama3_8b_pretrain_config"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # was exit 3: ValueError from the FLOPs count
        ([*ESTIMATE, "--seq-len", "0"], ["--seq-len must be at least 1", "got 0"]),
        # was accepted as "no VP"
        ([*ESTIMATE, "-vp", "0"], ["-vp must be at least 1", "omit -vp"]),
        ([*ESTIMATE, "-gb", "0"], ["-gb must be at least 1"]),
        # the flag was named "-gpus"
        (
            ["estimate", "--model", "llama3-8b", "--gpus", "0", "--gpu-type", "h100"],
            ["--gpus must be at least 1"],
        ),
        # the fix offered "Use CP in  or ..." (an empty list)
        ([*ESTIMATE, "-cp", "8", "--seq-len", "7"], ["Use CP=1", "multiple of 16"]),
        # was silently the default sequence length
        ([*PLAN, "--seq-len", "0"], ["--seq-len must be at least 1", "omit it"]),
    ],
)
def test_layout_inputs(args, words):
    one_line_error(run_cli(*args), *words)


@pytest.mark.parametrize(
    ("tokens", "words"),
    [
        ("0", ["not positive", "1T"]),
        ("-1", ["not positive"]),
        ("1Q", ["unknown suffix 'Q'", "K, M, B, T or P"]),
        # was accepted: a time to train of 10^20 days
        ("1e30", ["beyond any training run", "1e16"]),
    ],
)
def test_token_budget(tokens, words):
    one_line_error(run_cli(*ESTIMATE, "--tokens", tokens), *words)


@pytest.mark.parametrize(
    ("gpu", "words"),
    [
        # reported "bf16= is required" rather than the bad mem
        ("custom:mem=abc", ["mem must be a number", "abc"]),
        # these were accepted
        ("custom:mem=96,bf16=nan", ["bf16 must be a finite number"]),
        ("custom:mem=inf,bf16=700", ["mem must be a finite number"]),
        ("custom:mem=96,bf16=700,domain=2.5", ["domain is a GPU count", "whole number"]),
        ("custom:mem=96,bf16=700,mem=80", ["mem= is given twice"]),
        ("custom:mem=96,bf16=700,usable=200", ["at most mem=96"]),
        # was -1 GiB usable, and a plan of layouts that all "fit" nothing
        ("custom:mem=1,bf16=700", ["usable memory must be positive", "mem=96"]),
        ("custom:mem=96,bf16=700,exp=-1", ["exp must be positive"]),
    ],
)
def test_custom_gpu(gpu, words):
    one_line_error(run_cli("gpus", gpu), *words)
    one_line_error(run_cli(*PLAN[:5], "--gpu-type", gpu), *words)


@pytest.mark.parametrize(
    "override",
    [
        # each was exit 3 (ZeroDivisionError in the MoE memory rule)
        "model.expert_model_parallel_size=0",
        "model.expert_tensor_parallel_size=0",
        "model.pipeline_model_parallel_size=0",
    ],
)
def test_check_zero_factor_is_a_finding(override):
    proc = run_cli(*CHECK_MOE, override)
    assert proc.returncode == 1, proc.stderr
    assert "AR100" in proc.stdout and "internal error" not in proc.stderr


def test_check_negative_seq_length_is_a_finding():
    # was exit 3: the square root of a negative sequence length
    proc = run_cli(*CHECK_DENSE, "dataset.seq_length=-2")
    assert proc.returncode == 1, proc.stderr
    assert "AR100" in proc.stdout and "seq_len=-2" in proc.stdout


@pytest.mark.parametrize(
    ("override", "words"),
    [
        # said "unknown override key '': no section ''"
        ("=3", ["has no key", "KEY=VALUE"]),
        # said "LexerNoViableAltException: model.=3"
        ("model.=3", ["joined by single dots", "KEY=VALUE"]),
        ("model.x='unterminated", ["closing quote"]),
    ],
)
def test_check_override_grammar(override, words):
    proc = run_cli(*CHECK_DENSE, override)
    one_line_error(proc, *words)
    assert "Lexer" not in proc.stderr


def test_check_unknown_kind():
    # said "no foo recipe named 'llama3_8b_pretrain_config'"
    one_line_error(run_cli(*CHECK_DENSE, "--kind", "foo"), "unknown kind 'foo'", "library")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # click's four-line "Usage: ... Try ... Error: ..." block
        ([*PLAN[:3], "--gpus", "eight", "--gpu-type", "h100"], ["'--gpus'", "integer", "plan -h"]),
        (["list", "--max-gpus", "eight"], ["'--max-gpus'", "list -h"]),
        ([*PLAN, "--index", "0.6.2"], ["No such option: --index", "plan -h"]),
        (["plan", "--model", "llama3-8b", "--gpus", "8"], ["Missing option '--gpu-type'"]),
        (["nosuch"], ["No such command 'nosuch'", " -h`"]),
    ],
)
def test_usage_errors_are_one_line(args, words):
    one_line_error(run_cli(*args), *words)


def test_help_and_exit_codes_unchanged():
    assert run_cli("--help").returncode == 0
    assert run_cli("plan", "-h").stdout.startswith("Usage: ")
    bare = run_cli()
    assert bare.returncode == 2 and "Commands:" in bare.stderr + bare.stdout
    # `check` with an error finding still exits 1 (typer.Exit through the entry point)
    assert run_cli(*CHECK_DENSE, "model.tensor_model_parallel_size=0").returncode == 1

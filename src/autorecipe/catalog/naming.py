"""Model names as people type them: "Llama 3 8B", "llama3-8b", "qwen3 30b a3b".

A name is reduced to a key (lower case, letters, digits and dots only); each catalog
entry answers to the key of its Hugging Face id, of the id's tail, and of the tail
without the organisation prefix and release suffixes ("-hf", "-Base", "-Instruct"…).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Tail tokens that name a release or format of the same architecture, not another model.
_RELEASE_SUFFIX = re.compile(
    r"^(hf|base|instruct|it|pt|chat|bf16|fp8|reasoning|thinking|\d+k|\d{4}|v\d+\.\d+)$", re.I
)
# Leading tokens that repeat the organisation ("Meta-Llama-3-8B", "NVIDIA-Nemotron-…").
_ORG_PREFIX = {"meta", "nvidia"}


def key(name: str) -> str:
    """The comparison key of a name: "Llama 3 8B" and "llama3-8b" both give "llama38b"."""
    return re.sub(r"[^a-z0-9.]", "", name.lower())


def short_names(hf_id: str) -> list[str]:
    """The short spellings an entry answers to, most specific first."""
    tail = hf_id.split("/")[-1]
    tokens = tail.split("-")
    while len(tokens) > 1 and _RELEASE_SUFFIX.match(tokens[-1]):
        tokens.pop()
    stripped = "-".join(tokens)
    names = [tail, stripped]
    if len(tokens) > 1 and tokens[0].lower() in _ORG_PREFIX:
        names.append("-".join(tokens[1:]))
    return list(dict.fromkeys(names))


def strip_release(name: str) -> str:
    """The name without trailing release suffixes ("llama-3-8b-instruct" -> "llama-3-8b")."""
    tokens = re.split(r"[\s_-]+", name.strip())
    while len(tokens) > 1 and _RELEASE_SUFFIX.match(tokens[-1]):
        tokens.pop()
    return "-".join(tokens)


class NameIndex:
    """Exact and short-name lookup over a set of Hugging Face ids."""

    def __init__(self, ids: Iterable[str], aliases: dict[str, list[str]] | None = None) -> None:
        self.ids = list(ids)
        self._exact: dict[str, str] = {}
        self._short: dict[str, set[str]] = {}
        for hf_id in self.ids:
            for alias in [hf_id, *(aliases or {}).get(hf_id, [])]:
                self._exact[alias.lower()] = hf_id
                self._exact[key(alias)] = hf_id
                for short in short_names(alias):
                    self._short.setdefault(key(short), set()).add(hf_id)
                    # Recipe-style spellings drop the version dot: "llama31_405b", "qwen25_7b".
                    self._short.setdefault(key(short).replace(".", ""), set()).add(hf_id)

    def find(self, name: str) -> list[str]:
        """Every id `name` could mean, best tier only (one id = resolved)."""
        if name.lower() in self._exact:
            return [self._exact[name.lower()]]
        k = key(name)
        if not k:
            return []
        if k in self._exact:
            return [self._exact[k]]
        for candidate in (k, key(strip_release(name))):
            hits = self._short.get(candidate)
            if hits:
                return sorted(hits)
        if "/" in name:
            # Another release of a catalog model from the same organisation, e.g.
            # "nvidia/NVIDIA-Nemotron-Nano-9B-v2" for the catalog's "...-9B-v2-Base".
            org, tail = name.rsplit("/", 1)
            same_org = {
                i
                for candidate in (key(tail), key(strip_release(tail)))
                for i in self._short.get(candidate, ())
                if i.lower().startswith(org.lower() + "/")
            }
            if same_org:
                return sorted(same_org)
        # A prefix of one family's key, e.g. "qwen3 30b" for Qwen3-30B-A3B.
        prefixed = {i for s, ids in self._short.items() if s.startswith(k) for i in ids}
        return sorted(prefixed)

    def nearest(self, name: str, n: int = 5) -> list[str]:
        """The ids whose short names look most like `name`, best first."""
        import difflib

        k = key(strip_release(name))
        pool = {s: ids for s, ids in self._short.items()}
        hits = difflib.get_close_matches(k, list(pool), n=n * 2, cutoff=0.4)
        out: list[str] = []
        for h in hits:
            for hf_id in sorted(pool[h]):
                if hf_id not in out:
                    out.append(hf_id)
        return out[:n]

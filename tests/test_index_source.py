"""Reading a Megatron-Bridge wheel: files are inflated only when read, and a damaged
member is still reported as one line of bad input."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from autorecipe.index.source import read_source


def _damaged_wheel(path):
    """A Megatron-Bridge-shaped wheel whose recipes package fails its CRC check."""
    body = "x = 1\n" * 2000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("megatron/bridge/__init__.py", "")
        zf.writestr("megatron/bridge/recipes/__init__.py", body)
        zf.writestr("megatron_bridge-9.9.9.dist-info/METADATA", "Name: megatron-bridge\n")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("megatron/bridge/recipes/__init__.py")
    # The member's data follows its 30-byte local header, file name and extra field.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_member_is_one_line_of_bad_input(tmp_path):
    wheel = tmp_path / "megatron_bridge-9.9.9-py3-none-any.whl"
    _damaged_wheel(wheel)
    proc = subprocess.run(
        [sys.executable, "-m", "autorecipe", "index", "build", "--source", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "not a readable wheel" in lines[0]
    assert "megatron/bridge/recipes/__init__.py" in lines[0]


@pytest.mark.wheel
def test_wheel_texts_match_the_archive(wheel_062):
    tree = read_source(wheel_062)
    assert tree.version == "0.6.2"
    with zipfile.ZipFile(wheel_062) as zf:
        names = [n for n in zf.namelist() if n.startswith("megatron/bridge/") and n.endswith(".py")]
        assert sorted(tree.texts) == sorted(names)
        for name in (names[0], names[len(names) // 2], names[-1]):
            assert tree.texts[name] == zf.read(name).decode("utf-8", errors="replace")
    assert "megatron/bridge/no_such_module.py" not in tree.texts
    with pytest.raises(KeyError):
        tree.texts["megatron/bridge/no_such_module.py"]

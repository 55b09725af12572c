"""Writing benchmark results into BENCHMARKS.md, one marked section per benchmark script.

Each script owns a section between `<!-- section:NAME -->` and `<!-- /section:NAME -->` and
replaces only that, so the scripts can run separately and the file keeps every result.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path

HEADER = "# Benchmarks\n\nWritten by `make bench`; every ratio in a table comes from one run.\n"


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(path: Path, name: str, body: str) -> None:
    text = path.read_text() if path.exists() else HEADER
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n"
    path.write_text(text)

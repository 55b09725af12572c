"""`make demo`: the flag engine on the user guide's example configuration.

Loads the example JSON shipped with the package, prints the status table, measures over 10,000
keys the share of calls each feature serves (or shadows) against its configured percentage,
and explains one decision.
"""

from __future__ import annotations

import os
import tempfile
from importlib import resources
from typing import TextIO

from litellm_rust.cli import render_explanation, render_status
from litellm_rust.flags import decide, explain, get_feature_status, load_config

KEYS = 10_000


def _heading(text: str, out: TextIO) -> None:
    print(f"\n== {text} ==", file=out)


def run(out: TextIO) -> int:
    example = resources.files("litellm_rust").joinpath("examples/guide_config.json").read_text()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "feature_config.json")
        # The engine refuses configuration files that group or others may write.
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as file:
            file.write(example)
        load_config(path)

    _heading("Status after loading the user guide's example", out)
    status = get_feature_status()
    print(render_status(status), file=out)

    _heading(f"Observed share over {KEYS:,} keys (sticky: murmur3 buckets, as Unleash)", out)
    print(f"{'feature':<26}{'state':<18}{'configured':>11}{'observed':>10}  decision", file=out)
    for name, feature in sorted(status["features"].items()):
        counts = {"on": 0, "off": 0, "shadow": 0}
        for i in range(KEYS):
            counts[decide(name, f"user-{i}")] += 1
        served = "shadow" if feature["state"] == "shadow" else "on"
        share = 100.0 * counts[served] / KEYS
        print(
            f"{name:<26}{feature['state']:<18}{feature['rollout_percentage']:>10g}%"
            f"{share:>9.2f}%  {served}",
            file=out,
        )
    print(
        "batch_token_counting and async_routing also need their dependency on for the key.",
        file=out,
    )

    _heading("Why is batch_token_counting on or off for user-42?", out)
    print(render_explanation(explain("batch_token_counting", "user-42")), file=out)
    return 0

"""The `litellm-rust` command: status, validate, explain and demo.

Exit codes: 0 success; 1 the configuration (or the file given to `validate`) has problems;
2 the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from litellm_rust.flags import explain, get_feature_status, validate_config


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_status(status: dict[str, Any]) -> str:
    """The status as a table of features followed by the configuration's health."""
    rows = [["feature", "state", "rollout", "errors", "avg ms", "degraded", "state source"]]
    for name, f in sorted(status["features"].items()):
        state = f["state"]
        if state != f["configured_state"]:
            state = f"{state} (configured {f['configured_state']})"
        rows.append(
            [
                name,
                state,
                f"{f['rollout_percentage']:g}%",
                f"{f['error_count']}/{f['total_errors']}",
                f"{f['avg_performance_ms']:.3f}",
                f["degradation_reason"] or "-",
                f["sources"]["state"],
            ]
        )
    g = status["global_status"]
    config = g["configuration"]
    lines = [_table(rows), ""]
    lines.append(f"configuration file: {config['file'] or '(none)'}")
    lines.append(f"configuration valid: {'yes' if config['valid'] else 'NO'}")
    lines.extend(f"  problem: {p}" for p in config["problems"])
    if config["last_rejected"]:
        lines.append(f"last rejected load at {config['last_rejected']['at']}:")
        lines.extend(f"  problem: {p}" for p in config["last_rejected"]["problems"])
    if g["disable_all"]:
        lines.append("LITELLM_RUST_DISABLE_ALL is set: every feature is off")
    lines.append(f"alert file: {g['alert_file'] or '(none)'}")
    return "\n".join(lines)


def render_explanation(e: dict[str, Any], indent: str = "") -> str:
    """An explanation as indented lines, dependencies nested below their feature."""
    lines = [f"{indent}{e['feature']}: {e['decision']} ({e['reason']})"]
    lines.append(f"{indent}  effective state: {e['effective_state']}")
    if e["configured"] is not None:
        c = e["configured"]
        lines.append(
            f"{indent}  configured: {c['state']} at {c['rollout_percentage']:g}%, "
            f"group {c['group_id'] or e['feature']}"
        )
    if e["key"] is not None:
        lines.append(f"{indent}  key: {e['key']!r}")
    if e["bucket"] is not None:
        lines.append(f"{indent}  bucket: {e['bucket']} (on when bucket <= rollout percentage)")
    if e["draw"] is not None:
        lines.append(f"{indent}  draw: {e['draw']:.3f} (no key: drawn afresh per call)")
    if e["sources"] is not None:
        sources = ", ".join(f"{k}={v}" for k, v in e["sources"].items())
        lines.append(f"{indent}  sources: {sources}")
    for dependency in e["dependencies"]:
        lines.append(f"{indent}  depends on:")
        lines.append(render_explanation(dependency, indent + "    "))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="litellm-rust", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="show every feature and the configuration")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    validate = commands.add_parser("validate", help="check a configuration file")
    validate.add_argument("file", help="path of the JSON configuration file")
    explain_cmd = commands.add_parser("explain", help="explain one decision")
    explain_cmd.add_argument("feature")
    explain_cmd.add_argument("--key", help="stickiness key (user, team, request id)")
    explain_cmd.add_argument("--json", action="store_true", help="print the explanation as JSON")
    commands.add_parser("demo", help="run the demonstration on the embedded example")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.command == "status":
        status = get_feature_status()
        text = json.dumps(status, indent=2) if args.json else render_status(status)
        print(text, file=out)
        return 0 if status["global_status"]["configuration"]["valid"] else 1
    if args.command == "validate":
        problems = validate_config(args.file)
        for problem in problems:
            print(problem, file=out)
        if not problems:
            print(f"{args.file}: valid", file=out)
        return 1 if problems else 0
    if args.command == "explain":
        explanation = explain(args.feature, args.key)
        text = json.dumps(explanation, indent=2) if args.json else render_explanation(explanation)
        print(text, file=out)
        return 0
    from litellm_rust.demo import run

    return run(out)

"""``scrubber rules``: the rules with their code, effective severity and summary, or one rule's
documentation (``--explain CODE``); as a table or as JSON."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

import click

from scrubber.check.engine import known_codes
from scrubber.cli.common import data_dir_option, output_options, fail
from scrubber.config import load_config
from scrubber.rules import REGISTRY


@click.command()
@click.option("--explain", "explain", metavar="CODE", help="Print one rule's documentation.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Show the effective severity under this configuration.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a table (or the documentation with --explain); json: an array of every rule "
                   "(one object with --explain) with its documentation.")
@output_options
@data_dir_option
def rules(explain: str | None, config_path: Path | None, fmt: str = "text") -> None:
    """List the rules with their code, effective severity and summary."""
    config = load_config(config_path, known_codes())
    if explain:
        rule = REGISTRY.get(explain.upper())
        if rule is None:
            fail(f"no rule {explain!r}; `scrubber rules` lists them")
        if fmt == "json":
            click.echo(json.dumps(rule_json(rule, config), indent=2, ensure_ascii=False))
            return
        severity = config.severity(rule.code, rule.severity)
        click.echo(f"{rule.code} {rule.name} ({severity}{', ack ' + rule.ack if rule.ack else ''})")
        click.echo(f"{rule.summary}\n")
        click.echo(rule.docs())
        if rule.source:
            click.echo(f"\nSource: {rule.source}")
        if hasattr(rule, "explain_sources"):  # map-driven rules: the maps' and entries' sources
            click.echo(f"\n{rule.explain_sources()}")  # (a MapError: one line, exit status 2)
        return
    if fmt == "json":
        listing = [rule_json(rule, config) for _, rule in sorted(REGISTRY.items())]
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    for text in rules_table(REGISTRY, config):
        click.echo(text)


def rules_table(registry: dict, config, width: int | None = None) -> list[str]:
    """``scrubber rules``: CODE, NAME, SEVERITY (effective, or off), SCOPE, ACK, SUMMARY; the
    summary wraps to the terminal's width (no wrapping when the output is not a terminal)."""
    if width is None and (sys.stdout.isatty() or os.environ.get("COLUMNS")):
        width = shutil.get_terminal_size((100, 24)).columns
    name_w = max([len(r.name) for r in registry.values()] + [4])
    scope_w = max([len(r.scope) for r in registry.values()] + [5])
    ack_w = max([len(r.ack or "-") for r in registry.values()] + [7])
    head = f"{'CODE':<6} {'NAME':<{name_w}} {'SEVERITY':<11} {'SCOPE':<{scope_w}} {'ACK':<{ack_w}} "
    indent = len(head)
    out = [head + "SUMMARY"]
    for code, rule in sorted(registry.items()):
        on = config.rules.enabled(code)
        severity = config.severity(code, rule.severity) if on else "off"
        row = f"{code:<6} {rule.name:<{name_w}} {severity:<11} {rule.scope:<{scope_w}} {rule.ack or '-':<{ack_w}} "
        if width and width - indent >= 30:
            lines = textwrap.wrap(rule.summary, width - indent) or [""]
            out.append(row + lines[0])
            out.extend(" " * indent + more for more in lines[1:])
        else:
            out.append(row + rule.summary)
    return out


def rule_json(rule, config) -> dict:
    """One rule for ``scrubber rules --format json``: its code, name and summary, the default
    severity and the effective one under ``config`` ("off" when not enabled), scope, 277CA code
    (or None), source (or None) and the documentation text."""
    on = config.rules.enabled(rule.code)
    return {
        "code": rule.code,
        "name": rule.name,
        "summary": rule.summary,
        "default_severity": rule.severity,
        "effective_severity": config.severity(rule.code, rule.severity) if on else "off",
        "scope": rule.scope,
        "ack": rule.ack or None,
        "source": rule.source or None,
        "docs": rule.docs(),
    }

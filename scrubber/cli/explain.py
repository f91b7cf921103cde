"""``scrubber explain FILE [--claim CLM01] [--all]``: a claim as the implementation guide sees it.

Registered in :mod:`scrubber.cli.app`. Streams the file: one claim is in memory at a time, and each
claim asked for is printed as soon as it has been checked.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from scrubber.cli.common import data_dir_option, output_options, fail, parse_as_of, verbosity
from scrubber.codesets.backpain import preload

from scrubber.config import load_config
from scrubber.check.engine import Engine, known_codes
from scrubber.report.explain import element_names, explain_claim, finding_line, load_icd
from scrubber.report.safe import visible
from scrubber.report.sink import Sink


class _Explainer(Sink):
    """A sink that prints the listing or the explanations as the
    pipeline checks each claim: the findings are the scrub's own (claim rules, the structural
    pass, limits), so ``explain`` and the report always agree."""

    def __init__(self, file: Path, wanted: set[str], show_all: bool, only_rejected: bool, as_of: date,
                 color: bool | None):
        self.file = file
        self.wanted = wanted
        self.show_all = show_all
        self.only_rejected = only_rejected
        self.listing = not wanted and not show_all and not only_rejected
        self.as_of = as_of
        self.color = color
        self.found: set[str] = set()
        self.shown = 0
        self.icd = None
        self.names = None

    def echo(self, text: str = "") -> None:
        click.echo(text, color=self.color)

    def start(self, outcome) -> None:
        if self.listing:
            self.echo(f"{self.file.name}: claims (use --claim CLM01 to explain one, --rejected or --all for several)")
            self.echo(f"  {'ISA13':<9}  {'GS06':<9}  {'ST02':<9}  {'POS':>5}  {'STATUS':<9} {'CLAIM':<24} RULES")

    def claim(self, result) -> None:
        claim, findings, status = result.claim, result.findings, result.status
        cid = claim.claim_id
        if self.listing:
            rules = ", ".join(sorted({f.rule for f in findings})) or "-"
            mark = click.style(f"{status:<9}", fg="red" if status == "rejected" else "green")
            where = f"{claim.interchange_control:<9}  {claim.group_control:<9}  {claim.transaction_control:<9}"
            self.echo(f"  {visible(where)}  {'#' + str(claim.clm.position):>5}  {mark} {visible(cid):<24} {rules}")
            return
        if not (self.show_all or cid in self.wanted or (self.only_rejected and status == "rejected")):
            return
        if self.icd is None:
            self.icd = load_icd() or False
            self.names = element_names()
        self.found.add(cid)
        if self.shown:
            self.echo("")
        self.shown += 1
        for text in explain_claim(claim, findings, status, self.icd or None, self.file.name, self.as_of, self.names):
            self.echo(text)

    def finish(self, outcome) -> None:
        if self.listing:
            for f in outcome.findings:
                if f is outcome.fatal:
                    continue  # the unusable reason goes to standard error
                self.echo("  " + finding_line(f))


@click.command("explain")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--claim", "claim_ids", metavar="CLM01", multiple=True,
              help="The claim to explain (CLM01; repeat for several). Without it: a list of the claims.")
@click.option("--all", "show_all", is_flag=True, help="Explain every claim of the file.")
@click.option("--rejected", "only_rejected", is_flag=True, help="Explain every rejected claim of the file.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The date taken as today by date-relative rules.  [default: today]")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rule selection, severities, payer overrides.  [default: scrubber.toml if present]")
@click.option("--structure/--no-structure", default=True, show_default=True,
              help="Include the structural validation (pyx12, SX rules), as scrub does.")
@click.option("--no-color", "no_color", is_flag=True, hidden=True, help="The same as --color never (kept for scripts).")
@output_options
@data_dir_option
def explain(file: Path, claim_ids: tuple[str, ...], show_all: bool, only_rejected: bool, as_of: str | None,
            config_path: Path | None, structure: bool, no_color: bool = False) -> None:
    """Show claims of FILE as the 837P guide sees them: loops, positions, named elements,
    diagnoses with their status on the date of service, where each pointer leads, and the
    findings at the segment they concern (the same findings as `scrubber scrub`). Names,
    member ids, birth dates and addresses are shown as [masked].

    Exit status: 0 shown; 2 unusable input, unknown claim id or usage error.
    """
    from scrubber.run.pipeline import scrub_file

    config = load_config(config_path, known_codes())  # a ConfigError ends the command with its line
    as_of_date = parse_as_of(as_of, "--as-of", config=config)
    color = False if no_color else verbosity().get("color")  # --color always|never, NO_COLOR; None: on a terminal
    if not file.exists():
        fail(f"{file}: no such file")
    if not file.is_file():  # a FIFO or device: reading it could block or never end
        fail(f"{file}: not a regular file (a FIFO, socket or device); give the file itself")
    engine = Engine(config, as_of_date)
    preload(engine)  # as scrub does: a malformed rule map (MapError) stops the run with one line
    explainer = _Explainer(file, set(claim_ids), show_all, only_rejected, as_of_date, color)
    outcome = scrub_file(file, None, engine, sinks=[explainer], structure=structure)  # no file written
    if outcome.unusable:
        fail(f"{file}: unusable: {outcome.unusable}")
    missing = sorted(explainer.wanted - explainer.found)
    if missing:
        fail(f"{file}: no claim {', '.join(map(repr, missing))}; `scrubber explain {file}` lists the claims")
    if only_rejected and not explainer.shown:
        explainer.echo(f"{file.name}: no rejected claim")

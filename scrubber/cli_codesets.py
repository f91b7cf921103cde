"""``scrubber codesets``: what code sets are loaded; ``scrubber codesets add FILE``: add a CMS ICD-10-CM year.

``add`` takes a CMS ICD-10-CM order file (``icd10cm_order_YYYY.txt``, or ``.txt.gz``; the fiscal
year comes from the name or ``--fy``) and merges it into the ICD-10-CM table, by default the one
the scrubber ships (``maps/icd10cm/icd10cm.tsv.gz``). It is the same code as
``tools/build_icd10cm.py --add``, so the result is byte for byte the table a full rebuild gives.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _fail(message: str) -> None:
    click.echo(f"scrubber: {message}", err=True)
    sys.exit(2)


def _default_table() -> Path:
    from .codesets.icd10cm import TABLE_NAME
    from .mapsdir import map_path

    return map_path("icd10cm", TABLE_NAME)


def _counts(icd) -> list[tuple[int, int]]:
    """(codes, billable codes) per fiscal year of the table, counted from its masks."""
    from collections import Counter

    pairs = Counter("/".join(line.split("\t", 3)[1:3]) for line in icd._lines)  # a few dozen mask pairs
    out = []
    for i in range(len(icd.fiscal_years)):
        bit = 1 << i
        existing = billable = 0
        for pair, n in pairs.items():
            ex, bi = (int(x, 16) for x in pair.split("/"))
            existing += n if ex & bit else 0
            billable += n if bi & bit else 0
        out.append((existing, billable))
    return out


@click.group(invoke_without_command=True)
@click.option("--table", "table_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Show this ICD-10-CM table instead of the shipped one.")
@click.pass_context
def codesets(ctx: click.Context, table_path: Path | None) -> None:
    """Show the loaded code sets (fiscal years, counts, source, effective dates); `add FILE` adds a year."""
    if ctx.invoked_subcommand is not None:
        return
    from .codesets.icd10cm import load_icd10cm
    from .codesets.pos import load_pos

    path = table_path or _default_table()
    try:
        icd = load_icd10cm(path)
    except (OSError, ValueError) as exc:
        _fail(f"cannot read the ICD-10-CM table {path}: {getattr(exc, 'strerror', None) or exc}")
    fys = icd.fiscal_years
    start, end = icd.effective
    gaps = sorted(set(range(fys[0], fys[-1] + 1)) - set(fys))
    click.echo(f"icd10cm  ICD-10-CM diagnoses: {len(icd)} codes, FY{fys[0]}-FY{fys[-1]} ({len(fys)} fiscal years"
               + (f"; missing {', '.join(f'FY{y}' for y in gaps)}" if gaps else "") + ")")
    click.echo(f"         dates of service {start.isoformat()} to {end.isoformat()}; later dates are checked against "
               f"FY{fys[-1]} with a not_checked finding (DX110)")
    for fy, (existing, billable) in zip(fys, _counts(icd)):
        click.echo(f"         FY{fy}: {existing:>6} codes, {billable:>6} billable "
                   f"(dates {fy - 1}-10-01 to {fy}-09-30)")
    click.echo(f"         source: {icd.source}")
    click.echo(f"         table: {path}")
    try:
        pos = load_pos()
    except (OSError, ValueError) as exc:
        _fail(f"cannot read the place of service list: {getattr(exc, 'strerror', None) or exc}")
    click.echo(f"pos      CMS place of service codes: {len(pos)} codes, list as of {pos.as_of.split(' ')[0]}")
    click.echo(f"         source: {pos.source}")
    click.echo(f"         table: {pos.path}")


@codesets.command("add")
@click.argument("order_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fy", type=int, help="Fiscal year of FILE (default: from its name, icd10cm_order_YYYY.txt).")
@click.option("--table", "table_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The ICD-10-CM table to add to (default: the shipped maps/icd10cm/icd10cm.tsv.gz).")
def add(order_file: Path, fy: int | None, table_path: Path | None) -> None:
    """Add a CMS ICD-10-CM order file (next fiscal year's release) to the ICD-10-CM table."""
    from .codesets.build import BuildError, add as add_year, fiscal_year_from_name, write_table

    table = table_path or _default_table()
    if not order_file.is_file():
        _fail(f"{order_file}: no such file")
    try:
        fy = fy if fy is not None else fiscal_year_from_name(order_file)
        merged = add_year(table, order_file, fy)
        size = write_table(merged, table)
    except BuildError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or table}: {exc.strerror or exc}")
    fys = sorted(merged.inputs)
    click.echo(f"added FY{fy} from {order_file.name}: {table} now has {len(merged.years)} codes, FY{fys[0]}-FY{fys[-1]} "
               f"({len(fys)} fiscal years, {size} bytes)")

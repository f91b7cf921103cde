"""``scrubber codesets``: what code sets are loaded, from where, and the dates they cover;
``scrubber codesets add FILE``: load a newer CMS file into the data folder.

``add`` takes, by what the file is:

- a CMS ICD-10-CM order file (``icd10cm_order_YYYY.txt``, or ``.txt.gz``; the fiscal year from the
  name or ``--fy``): a new fiscal year;
- a CMS ICD-10-CM order addenda (``icd10cm_order_addenda_YYYY.txt``; the October one gives fiscal
  year YYYY from YYYY-1, an April one, ``--april`` or "april" in its name, the update in force from
  April 1 of its fiscal year): applied to the newest loaded year, refused unless the result has the
  counts the addenda states;
- a CMS NCCI practitioner PTP or MUE file: a newer quarter.

The result goes to the data folder (``--data-dir``, ``SCRUBBER_DATA_DIR``, ``[options] data_dir``,
else the per-user one), never into the installed package, so an upgrade loses nothing. ``--table``
names an ICD-10-CM table to change in place instead (the build script's use).
"""

from __future__ import annotations

from pathlib import Path

import click

from scrubber.cli.common import data_dir_option, output_options, fail, parse_as_of


def _counts(icd) -> list[tuple[str, int, int]]:
    """(release, codes, billable codes) per release of the table, counted from its masks."""
    from collections import Counter

    pairs = Counter("/".join(line.split("\t", 3)[1:3]) for line in icd._lines)  # a few dozen mask pairs
    columns = [(f"FY{fy}", i) for i, fy in enumerate(icd.fiscal_years)]
    columns += [(f"FY{fy}-04", len(icd.fiscal_years) + i) for i, fy in enumerate(icd.april)]
    out = []
    for label, i in columns:
        bit = 1 << i
        existing = billable = 0
        for pair, n in pairs.items():
            ex, bi = (int(x, 16) for x in pair.split("/"))
            existing += n if ex & bit else 0
            billable += n if bi & bit else 0
        out.append((label, existing, billable))
    order = {label: k for k, label in enumerate(icd.releases)}
    return sorted(out, key=lambda row: order[row[0]])




def _where(path: Path | None) -> str:
    from scrubber.mapsdir import maps_dir

    if path is None:
        return ""
    try:
        Path(path).resolve().relative_to(maps_dir().resolve())
        return f"{path} (shipped)"
    except ValueError:
        return f"{path} (data folder)"


def _load_config(config_path: Path | None) -> None:
    """Read the configuration for its ``[options] data_dir`` only."""
    from scrubber.config import load_config
    from scrubber.check.engine import known_codes

    load_config(config_path, known_codes())


@click.group(invoke_without_command=True)
@click.option("--table", "table_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Show this ICD-10-CM table instead of the one in use.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The date to check coverage for.  [default: today]")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Configuration (for [options] data_dir).  [default: scrubber.toml if present]")
@output_options
@data_dir_option
@click.pass_context
def codesets(ctx: click.Context, table_path: Path | None, as_of: str | None, config_path: Path | None) -> None:
    """Show the code sets in use: where each comes from, the dates it covers; `add FILE` loads a newer one."""
    if ctx.invoked_subcommand is not None:
        return
    from scrubber.codesets.coverage import coverage, quarter_age, stale_reasons
    from scrubber.codesets.icd10cm import default_table_path, load_icd10cm
    from scrubber.codesets.pos import load_pos
    from scrubber.mapsdir import data_dir, data_dir_origin

    _load_config(config_path)
    when = parse_as_of(as_of, "--as-of")
    path = table_path or default_table_path()
    try:
        icd = load_icd10cm(path)
    except (OSError, ValueError) as exc:
        fail(f"cannot read the ICD-10-CM table {path}: {getattr(exc, 'strerror', None) or exc}")
    covered = coverage(when)
    stale = stale_reasons(when)
    if table_path is not None:  # another table than the one in use: its own coverage
        stale = [s for s in stale if not s.startswith("ICD-10-CM")]
        if when > icd.effective[1]:
            stale.insert(0, f"ICD-10-CM ends FY{icd.fiscal_years[-1]} ({icd.effective[1].isoformat()})")
    if stale:
        click.echo(f"WARNING: out of date for {when.isoformat()}: " + "; ".join(stale)
                   + ". Load newer CMS files with `scrubber codesets add FILE` (see the README).")
    else:
        click.echo(f"Every code set covers {when.isoformat()}.")
    click.echo(f"data folder: {data_dir()} ({data_dir_origin()})")
    fys = icd.fiscal_years
    start, end = icd.effective
    gaps = sorted(set(range(fys[0], fys[-1] + 1)) - set(fys))
    april = f", April updates {', '.join(f'FY{y}' for y in icd.april)}" if icd.april else ""
    click.echo(f"icd10cm  ICD-10-CM diagnoses: {len(icd)} codes, FY{fys[0]}-FY{fys[-1]} ({len(fys)} fiscal years"
               + (f"; missing {', '.join(f'FY{y}' for y in gaps)}" if gaps else "") + april + ")")
    click.echo(f"         dates of service {start.isoformat()} to {end.isoformat()}; later dates are checked against "
               f"FY{fys[-1]} with a not_checked finding (DX110)")
    for label, existing, billable in _counts(icd):
        if label.endswith("-04"):
            fy = int(label[2:6])
            span = f"dates {fy}-04-01 to {fy}-09-30"
        else:
            fy = int(label[2:])
            span = f"dates {fy - 1}-10-01 to {fy}-09-30" + (f", to {fy}-03-31 where the April update applies"
                                                           if fy in icd.april else "")
        click.echo(f"         {label}: {existing:>6} codes, {billable:>6} billable ({span})")
    click.echo(f"         source: {icd.source}")
    click.echo(f"         table: {_where(path)}")
    maps = [c for c in covered if c.key.startswith("backpain/")]
    if maps:
        click.echo("backpain back-pain maps (BP, PX, NC004):")
        for c in maps:
            flag = "  OUT OF DATE" if c.stale else ""
            click.echo(f"         {c.key.split('/', 1)[1]}: dates of service {c.start.isoformat()} to {c.end.isoformat()}{flag}")
        from scrubber.mapsdir import map_path

        click.echo(f"         folder: {_where(map_path('backpain'))}")
    try:
        from scrubber.codesets import ncci as ncci_module
    except ImportError:  # pragma: no cover - the package ships it
        ncci_module = None
    if ncci_module is not None:
        try:
            loaded = ncci_module.load_ncci()
        except Exception as exc:  # noqa: BLE001 - one line, whatever broke the table
            fail(f"cannot read the NCCI tables: {exc}")
        click.echo(f"ncci     NCCI practitioner edits: PTP quarter {loaded.ptp_quarter.isoformat()} "
                   f"({quarter_age(loaded.ptp_quarter, when)}), MUE quarter {loaded.mue_quarter.isoformat()} "
                   f"({quarter_age(loaded.mue_quarter, when)}); no end date: each quarter replaces the last, and "
                   f"claims after it are checked against it")
        for line in ncci_module.describe():  # (each table's lines start with the table's key)
            click.echo(f"         {line[9:]}" if line.startswith("ncci     ") else line)
    try:
        pos = load_pos()
    except (OSError, ValueError) as exc:
        fail(f"cannot read the place of service list: {getattr(exc, 'strerror', None) or exc}")
    click.echo(f"pos      CMS place of service codes: {len(pos)} codes, list as of {pos.as_of.split(' ')[0]}")
    click.echo(f"         source: {pos.source}")
    click.echo(f"         table: {_where(pos.path)}")


@codesets.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fy", type=int, help="Fiscal year of an ICD-10-CM FILE (default: from its name).")
@click.option("--april", is_flag=True, default=None,
              help="FILE is the addenda of an April update (default: when its name says April).")
@click.option("--table", "table_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Change this ICD-10-CM table in place (default: write the data folder's).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Configuration (for [options] data_dir).  [default: scrubber.toml if present]")
@output_options
@data_dir_option
def add(file: Path, fy: int | None, april: bool | None, table_path: Path | None, config_path: Path | None) -> None:
    """Load FILE: a CMS ICD-10-CM order file or order addenda, or a CMS NCCI PTP or MUE practitioner file."""
    from scrubber.codesets.build import (
        add as add_year,
        add_addenda,
        fiscal_year_from_name,
        is_addenda,
        is_order_file,
        write_table,
    )
    from scrubber.mapsdir import data_dir

    _load_config(config_path)
    if not file.is_file():
        fail(f"{file}: no such file")
    addenda = is_addenda(file)
    if not addenda and not is_order_file(file) and fy is None:
        if table_path is not None:
            fail(f"{file}: not an ICD-10-CM order file or addenda by its name; pass --fy YEAR for an order file")
        _add_ncci(file, data_dir())
        return
    from scrubber.codesets.icd10cm import TABLE_NAME, default_table_path

    base = table_path or default_table_path()
    target = table_path or data_dir() / "icd10cm" / TABLE_NAME
    try:
        if addenda:
            merged = add_addenda(base, file, fy, april)
            newest = max(merged.inputs)
            what = (f"the FY{newest} April update" if newest in merged.april and merged.april[newest].name == file.name
                    else f"FY{newest}")
        else:
            fy = fy if fy is not None else fiscal_year_from_name(file)
            merged = add_year(base, file, fy)
            what = f"FY{fy}"
        size = write_table(merged, target)
    except OSError as exc:
        fail(f"{exc.filename or target}: {exc.strerror or exc}")
    fys = sorted(merged.inputs)
    click.echo(f"added {what} from {file.name}: {target} now has "
               f"{len(set(merged.years) | set(merged.april_years))} codes, FY{fys[0]}-FY{fys[-1]} "
               f"({len(fys)} fiscal years{', April updates ' + ', '.join(f'FY{y}' for y in sorted(merged.april)) if merged.april else ''}, "
               f"{size} bytes)")


def _add_ncci(file: Path, folder: Path) -> None:
    try:
        from scrubber.codesets.ncci import add_file
    except ImportError:  # pragma: no cover - the package ships it
        fail(f"{file}: not an ICD-10-CM order file or addenda (by its name), and NCCI files are not supported here")
    try:
        click.echo(add_file(file, folder))
    except OSError as exc:
        fail(f"{exc.filename or file}: {exc.strerror or exc}")

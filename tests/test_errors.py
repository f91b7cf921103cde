"""ScrubberError: the one base of the scrubber's one-line errors, caught once by the command line."""

from __future__ import annotations

import sys

import pytest

import scrubber.cli.app
import scrubber.cli.rules
from scrubber.codesets.backpain import MapError
from scrubber.codesets.build import BuildError
from scrubber.codesets.ncci import NcciError
from scrubber.config import ConfigError
from scrubber.errors import ScrubberError
from scrubber.limits import LimitsError
from scrubber.run.outdir import WatchError


@pytest.mark.parametrize("cls", [ConfigError, MapError, NcciError, BuildError, LimitsError])
def test_every_error_is_a_scrubber_error_with_exit_code_two(cls):
    exc = cls("something is wrong")
    assert isinstance(exc, ScrubberError)
    assert exc.exit_code == 2
    assert str(exc) == "something is wrong"


def test_limits_error_is_still_a_value_error():
    assert isinstance(LimitsError("x"), ValueError)


def test_watch_error_keeps_its_own_code():
    assert WatchError("cannot start").exit_code == 2 and WatchError("cannot start").code == 2
    stopped = WatchError("must stop", 1)
    assert isinstance(stopped, ScrubberError)
    assert stopped.exit_code == 1 and stopped.code == 1
    assert str(stopped) == "must stop"


def test_str_is_one_line():
    assert str(ScrubberError("first line\n  second line\r\n")) == "first line second line"
    assert str(ScrubberError("one line")) == "one line"
    assert ScrubberError("x", exit_code=3).exit_code == 3


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["scrubber", *args])
    with pytest.raises(SystemExit) as stop:
        scrubber.cli.app.main()
    out, err = capsys.readouterr()
    return stop.value.code, out, err


@pytest.mark.parametrize("exc", [ConfigError("bad.toml: rules.ignore: 'XX999' matches no rule"),
                                 WatchError("the watcher must stop", 1),
                                 ScrubberError("three\nlines\nhere", exit_code=3)])
def test_a_scrubber_error_in_a_command_is_one_line_with_its_exit_code(monkeypatch, capsys, exc):
    def failing(*args, **kwargs):
        raise exc

    monkeypatch.setattr(scrubber.cli.rules, "load_config", failing)  # the first thing `scrubber rules` calls
    code, out, err = run_main(monkeypatch, capsys, "rules")
    assert code == exc.exit_code
    assert out == ""
    assert err == f"scrubber: {exc}\n"
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_bad_config_says_so_as_before(monkeypatch, capsys, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[rules]\nignore = ["XX999"]\n')
    code, out, err = run_main(monkeypatch, capsys, "rules", "--config", str(cfg))
    assert code == 2 and out == ""
    assert err == f"scrubber: {cfg}: rules.ignore: 'XX999' matches no rule\n"


def test_a_scrubber_error_is_its_one_line_under_clicks_runner_too(tmp_path):
    """The group itself turns a ScrubberError into its line: callers of the click group (tools,
    tests) see the same line and exit status as the `scrubber` command."""
    from click.testing import CliRunner

    from scrubber.cli.app import cli

    cfg = tmp_path / "bad.toml"
    cfg.write_text('[rules]\nignore = ["XX999"]\n')
    result = CliRunner().invoke(cli, ["explain", "--config", str(cfg), str(tmp_path / "x.837")])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "XX999" in result.output and "matches no rule" in result.output
    assert "Traceback" not in result.output

"""The rule docs (docs/rules/, README.md's rule tables) are generated from the registry and current."""

from __future__ import annotations

import shutil
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import make_docs  # noqa: E402

from scrubber.rules import REGISTRY  # noqa: E402


def test_generated_docs_are_current():
    stale = [str(p.relative_to(ROOT)) for p in make_docs.stale(ROOT)]
    assert not stale, f"stale rule docs: {', '.join(stale)}; run python tools/make_docs.py"


def test_every_code_has_its_page():
    for code, rule in REGISTRY.items():
        page = (ROOT / "docs" / "rules" / f"{code}.md").read_text(encoding="utf-8")
        assert page.startswith(f"# {code} {rule.name}\n"), code
        assert f"| default severity | `{rule.severity}` |" in page and f"| scope | {rule.scope} |" in page
        if rule.scope == "claim":
            for heading in ("## What it does", "## Why is this bad", "## Example", "## Use instead"):
                assert heading in page, (code, heading)
        else:
            assert "| raised in | `scrubber." in page, code
    index = (ROOT / "docs" / "rules" / "README.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in REGISTRY:
        assert f"[{code}]({code}.md)" in index
        assert f"[{code}](docs/rules/{code}.md)" in readme


def test_check_names_the_stale_files(tmp_path, capsys):
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "docs" / "rules", tmp_path / "docs" / "rules")
    assert make_docs.main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / "docs" / "rules" / "DP002.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    (tmp_path / "docs" / "rules" / "ZZ999.md").write_text("# a code no longer registered\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("pointer-missing | error", "pointer-missing | warning"), encoding="utf-8")
    capsys.readouterr()
    assert make_docs.main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("stale: README.md, ") and "docs/rules/DP002.md" in out and "docs/rules/ZZ999.md" in out
    assert "python tools/make_docs.py" in out
    make_docs.main(["--root", str(tmp_path)])
    assert not (tmp_path / "docs" / "rules" / "ZZ999.md").exists()
    assert make_docs.main(["--check", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == (ROOT / "README.md").read_text(encoding="utf-8")

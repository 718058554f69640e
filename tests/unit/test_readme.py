"""The README's table of implemented commands matches the registry."""

import sys
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools"))

import readme_table  # noqa: E402


def test_readme_command_table_is_current():
    text = readme_table.README.read_text()
    assert readme_table.render(text) == text, "run: python tools/readme_table.py"

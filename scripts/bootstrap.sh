#!/usr/bin/env bash
# Create or refresh the project's virtual environment (.venv) idempotently.
# usage: scripts/bootstrap.sh [extras]   e.g. "test" for the test dependencies
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
extras=${1:-}
venv="$root/.venv"
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
spec="$root"
[ -n "$extras" ] && spec="$root[$extras]"
# Reinstall only when the dependency list, the extras or the compiled modules' sources changed
# (the install compiles them in place, see setup.py and vermilion/compiled.py).
stamp="$venv/.vermilion-installed"
compiled="$("$venv/bin/python" -c 'import runpy, sys; print(runpy.run_path(sys.argv[1] + "/vermilion/compiled.py")["sources_digest"](sys.argv[1]))' "$root")"
want="$(cat "$root/pyproject.toml" "$root/setup.py" "$root/vermilion/compiled.py" | sha256sum | cut -d' ' -f1) $compiled $extras"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
    echo "$want" >> "$stamp"
fi

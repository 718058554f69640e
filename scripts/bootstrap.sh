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
# Reinstall only when the dependency list, the extras or the compiled lane's sources changed
# (the install compiles vermilion/connection.py in place, see setup.py).
stamp="$venv/.vermilion-installed"
want="$(cat "$root/pyproject.toml" "$root/setup.py" "$root/vermilion/connection.py" \
    "$root/vermilion/connection.pxd" | sha256sum | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
    echo "$want" >> "$stamp"
fi

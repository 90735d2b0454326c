#!/usr/bin/env bash
# Print the path of a Python 3.12 or newer, or explain what is needed and fail.
# Tries $PYTHON, then python3.13/python3.12/python3 on PATH, then pyenv's installed versions.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for cand in ${PYTHON:-} python3.14 python3.13 python3.12 python3; do
  [ -n "$cand" ] || continue
  path=$(command -v "$cand" 2>/dev/null) || continue
  if ok "$path"; then echo "$path"; exit 0; fi
done
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*; do
  [ -x "$dir/bin/python3" ] && ok "$dir/bin/python3" && { echo "$dir/bin/python3"; exit 0; }
done
echo "error: this project needs Python 3.12 or newer (Mesa 3.5 requires it)." >&2
echo "Install one (e.g. 'pyenv install 3.12', or your system's python3.12 package)," >&2
echo "or point to it with: make PYTHON=/path/to/python3.12 ..." >&2
exit 1

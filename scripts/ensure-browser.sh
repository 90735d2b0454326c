#!/usr/bin/env bash
# Make sure the browser the proposal explorer's tests drive is there: Debian's Chromium.
# Playwright cannot download its own browser on these machines, so the tests use the system one.
# Installs it when missing and this user can (root, or password-less sudo, with apt-get);
# otherwise prints the one command to run and fails.
set -u
if [ -n "${SIM_CHROMIUM:-}" ] && [ -x "${SIM_CHROMIUM}" ]; then exit 0; fi
for b in chromium chromium-browser; do
  command -v "$b" >/dev/null 2>&1 && exit 0
done
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then as=""; elif sudo -n true 2>/dev/null; then as="sudo"; else as="none"; fi
  if [ "$as" != "none" ]; then
    echo "installing Debian's Chromium for the browser tests (apt-get install chromium)"
    export DEBIAN_FRONTEND=noninteractive
    $as apt-get update -qq && $as apt-get install -y -qq chromium >/dev/null && exit 0
    echo "error: apt-get could not install chromium" >&2
    exit 1
  fi
fi
echo "error: the proposal explorer's browser tests need Chromium, which is not installed." >&2
echo "Install it with:  sudo apt-get install chromium   (or set SIM_CHROMIUM=/path/to/chromium)" >&2
exit 1

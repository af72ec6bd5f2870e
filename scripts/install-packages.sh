#!/usr/bin/env bash
# install-packages.sh PACKAGE...: installs the Debian packages that are not
# installed yet, with apt-get as .ci/run does (sudo when not root). `make
# demo` uses it for what the demo runs.
set -euo pipefail

missing=()
for p in "$@"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
command -v apt-get >/dev/null || { echo "install-packages.sh: no apt-get: install ${missing[*]} yourself" >&2; exit 1; }
sudo=()
if [[ $EUID -ne 0 ]]; then
	command -v sudo >/dev/null || { echo "install-packages.sh: not root and no sudo: cannot install ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
echo "installing with apt-get: ${missing[*]}"
"${sudo[@]}" apt-get update
# tshark's debconf question (may non-root users capture?) must not block.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"

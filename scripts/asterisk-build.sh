#!/usr/bin/env bash
# asterisk-build.sh builds the Asterisk source tarball the end-to-end tests run
# (e2e/asterisk_test.go, through internal/asterisktest) into a cache outside
# the repository, once per machine: the install is keyed by the tarball's
# sha256, so a second run, or a run from another checkout, finds it done.
#
#   tarball  $IAXCRYPT_ASTERISK_TARBALL, else ../shared/vendor/asterisk-22.10.1.tar.gz
#            beside the repository. Absent: says so and exits 0 (the tests
#            then skip and say why).
#   cache    $IAXCRYPT_ASTERISK_CACHE, else /var/cache/iaxcrypt as root,
#            else ${XDG_CACHE_HOME:-~/.cache}/iaxcrypt. The install goes to
#            CACHE/asterisk-SHA256; a file .complete in it marks a finished build.
#
# Only the modules the tests use are built (chan_iax2, the dialplan, Dial and
# its bridges, a timing module for trunking, ulaw/alaw), which keeps the build
# near 75 s with make -j2 and downloads nothing. Build dependencies (Debian):
# build-essential libedit-dev libjansson-dev libsqlite3-dev uuid-dev
# libxml2-dev libssl-dev pkg-config; .ci/run installs them.
#
# Prints the install directory on its last line of output.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

tarball=${IAXCRYPT_ASTERISK_TARBALL:-$root/../shared/vendor/asterisk-22.10.1.tar.gz}
if [[ ! -f $tarball ]]; then
	echo "asterisk-build.sh: no Asterisk source tarball at $tarball (set IAXCRYPT_ASTERISK_TARBALL); nothing built, the Asterisk tests will skip"
	exit 0
fi

if [[ -n ${IAXCRYPT_ASTERISK_CACHE:-} ]]; then
	cache=$IAXCRYPT_ASTERISK_CACHE
elif [[ $EUID -eq 0 ]]; then
	cache=/var/cache/iaxcrypt
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/iaxcrypt
fi

sha=$(sha256sum "$tarball" | cut -d' ' -f1)
prefix=$cache/asterisk-$sha

if [[ -f $prefix/.complete ]]; then
	echo "asterisk-build.sh: already built from $tarball"
	echo "$prefix"
	exit 0
fi

for bin in tar make gcc g++ pkg-config flock sha256sum; do
	command -v "$bin" >/dev/null || {
		echo "asterisk-build.sh: $bin not found; install build-essential pkg-config (see .ci/run)" >&2
		exit 1
	}
done

mkdir -p "$cache"
# One build at a time per tarball; a second caller waits, then finds it done.
exec 9>"$cache/asterisk-$sha.lock"
flock 9
if [[ -f $prefix/.complete ]]; then
	echo "asterisk-build.sh: built by another run meanwhile"
	echo "$prefix"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/iaxcrypt-asterisk-build.XXXXXX")
log=$work/build.log
cleanup() {
	local rc=$?
	if [[ $rc -ne 0 ]]; then
		echo "asterisk-build.sh: build failed (exit $rc); last lines of $log:" >&2
		tail -n 40 "$log" >&2 || true
		# A half install must not look usable.
		rm -rf "$prefix"
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

start=$SECONDS
echo "asterisk-build.sh: building $(basename "$tarball") (sha256 $sha) into $prefix"
rm -rf "$prefix"
tar -xzf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'asterisk-*' | head -n 1)
[[ -n $src ]] || { echo "asterisk-build.sh: no asterisk-* folder in $tarball" >&2; exit 1; }
cd "$src"

echo "asterisk-build.sh: configure"
./configure --prefix="$prefix" --without-pjproject-bundled --without-pjproject \
	--disable-xmldoc >"$log" 2>&1

echo "asterisk-build.sh: menuselect"
make menuselect.makeopts >>"$log" 2>&1
# Every category off (this also turns off the sound downloads), then just
# the modules the tests need. Listing commands run on menuselect.makeopts
# after this would restore the defaults, so none are run.
categories=$(grep -o 'category name="MENUSELECT_[A-Z0-9_]*"' menuselect-tree | cut -d'"' -f2 | sort -u)
args=()
for c in $categories; do
	args+=(--disable-category "$c")
done
for m in chan_iax2 pbx_config app_dial app_echo app_playback res_timing_timerfd res_crypto \
	codec_ulaw codec_alaw format_wav format_pcm bridge_simple bridge_builtin_features; do
	args+=(--enable "$m")
done
menuselect/menuselect "${args[@]}" menuselect.makeopts >>"$log" 2>&1

echo "asterisk-build.sh: make -j2"
make -j2 >>"$log" 2>&1
echo "asterisk-build.sh: make install"
make install >>"$log" 2>&1

for m in chan_iax2 pbx_config app_dial res_timing_timerfd codec_ulaw bridge_simple; do
	[[ -f $prefix/lib/asterisk/modules/$m.so ]] || {
		echo "asterisk-build.sh: $m.so missing from $prefix/lib/asterisk/modules" >&2
		exit 1
	}
done
[[ -x $prefix/sbin/asterisk ]] || { echo "asterisk-build.sh: $prefix/sbin/asterisk missing" >&2; exit 1; }

echo "$sha $(basename "$tarball")" >"$prefix/.complete"
echo "asterisk-build.sh: built in $((SECONDS - start)) s"
echo "$prefix"

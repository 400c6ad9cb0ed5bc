# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/deps.sh — the Debian packages hivefs needs, and one function that
# installs whichever are missing.  Sourced by tests/run and tools/quickstart
# (not executed).
#
#   hivefs_ensure_packages PKG...
#       Returns 0 when every PKG is installed (checked with dpkg-query).
#       Otherwise, as root: apt-get update, then a non-interactive
#       apt-get install --no-install-recommends of the missing ones.
#       Not root: prints the apt-get command to run and returns 1.
#       HIVEFS_SKIP_DEPS=1 skips the whole check (other distributions,
#       or a machine set up by hand).

# shellcheck disable=SC2034  # the arrays are used by the scripts sourcing this
# Build the engine, hivectl and the FUSE driver, and use a mount.
HIVEFS_PKGS_BUILD=(
	build-essential pkg-config meson ninja-build
	libtalloc-dev libfuse3-dev libcmocka-dev
	fuse3 attr xz-utils python3
)

# Everything the test suites and the benchmark use on top of that:
# sanitizers and libFuzzer (clang + its runtime), the independent hive
# readers used as oracles (hivex, libregf, reglookup), peers to compare with
# (winregfs), tools the filesystem tests drive (editors; pcmanfm under a
# private Xvfb with xdotool, xclip, xauth, xwd and a D-Bus session), and
# GNU time for the benchmark's peak-RSS figures.
HIVEFS_PKGS_TEST=(
	"${HIVEFS_PKGS_BUILD[@]}"
	clang libclang-rt-14-dev valgrind
	libhivex-bin libwin-hivex-perl python3-hivex
	libregf-utils reglookup winregfs
	rsync stress-ng time vim tar
	groff-base bash-completion
	nano emacs-nox mc tmux libglib2.0-bin
	pcmanfm xvfb xdotool x11-utils x11-apps xclip xauth dbus-daemon
)

# Building and checking the Debian package (tests/package/run,
# tools/build-deb): not part of tests/run.
HIVEFS_PKGS_PACKAGE=(
	"${HIVEFS_PKGS_BUILD[@]}"
	dpkg-dev debhelper lintian fakeroot python3-hivex
)

# Print the packages of "$@" that are not installed, one per line.
hivefs_missing_packages() {
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || status=
		[[ $status == installed ]] || printf '%s\n' "$pkg"
	done
}

hivefs_ensure_packages() {
	if [[ ${HIVEFS_SKIP_DEPS:-0} == 1 ]]; then
		echo "deps: HIVEFS_SKIP_DEPS=1, not checking packages"
		return 0
	fi
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "deps: no dpkg-query (not Debian?); make sure these are installed:" >&2
		echo "      $*" >&2
		return 0
	fi

	local -a missing
	mapfile -t missing < <(hivefs_missing_packages "$@")
	if ((${#missing[@]} == 0)); then
		echo "deps: all ${#} packages installed"
		return 0
	fi
	if ((EUID != 0)); then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: as root, run:" >&2
		echo "      apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
		return 1
	fi

	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get update </dev/null; then
		echo "deps: apt-get update failed" >&2
		return 1
	fi
	if ! apt-get install -y --no-install-recommends "${missing[@]}" </dev/null; then
		echo "deps: apt-get install failed" >&2
		return 1
	fi
	mapfile -t missing < <(hivefs_missing_packages "$@")
	if ((${#missing[@]} != 0)); then
		echo "deps: still missing after install: ${missing[*]}" >&2
		return 1
	fi
	return 0
}

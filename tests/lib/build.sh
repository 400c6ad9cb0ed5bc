# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/build.sh — configure a meson build directory.  Sourced by
# tests/run and tools/quickstart (not executed).
#
#   hivefs_meson_setup DIR [MESON-ARGS...]
#       Configures DIR, or reconfigures it with the given arguments if it is
#       already a meson build directory; if reconfiguring fails (a build
#       directory from an older meson, say), DIR is wiped and set up afresh.

hivefs_meson_setup() {
	local dir=$1
	shift
	if [[ -f $dir/meson-private/coredata.dat ]]; then
		meson setup --reconfigure "$dir" "$@" ||
			meson setup --wipe "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
}

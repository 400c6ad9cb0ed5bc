# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/harness.sh — what a shell test suite needs, once: results,
# bounded commands, mounts that are always taken down.  Sourced (not run).
#
# Results
#   h_pass NAME                 count a passed check
#   h_fail NAME WHY...          count a failed one and say why
#   h_check NAME CMD...         CMD must exit 0 within H_TIMEOUT seconds
#   h_refuse NAME PATTERN CMD...
#                               CMD must fail (not time out, not be killed by a
#                               signal) within H_TIMEOUT seconds, and its
#                               stderr must match the extended regex PATTERN
#                               (the specific refusal, not any failure)
#   h_summary                   prints "N passed, F failed" and returns 1 if
#                               anything failed
#   h_skip WHY...               prints "SKIP: WHY" and exits 77
#
# Bounded commands
#   h_bounded SECONDS CMD...    runs CMD with a timeout; 124 when it hung
#   H_TIMEOUT                   default bound for h_check/h_refuse (20 s)
#   H_OUT, H_ERR                stdout and stderr of the last h_check,
#                               h_refuse or h_bounded
#
# Mounts (each mount point is unmounted and its daemon reaped by h_cleanup,
# which the harness installs as the EXIT trap; call h_cleanup yourself if you
# replace the trap)
#   h_mount MNT HIVEFS-ARGS...  starts `HIVEFS -f ARGS... MNT` in the
#                               background, stderr in $H_TMP/daemon.N.err,
#                               and waits until MNT is a mount point (or the
#                               daemon exits: returns 1)
#   h_unmount MNT               fusermount3 -u MNT, then waits for the daemon
#                               to exit; returns the daemon's exit status
#                               (124 if it did not exit within H_TIMEOUT)
#   h_daemon_err MNT            the daemon's stderr file
#
# Set before sourcing (or after, before the first h_mount): HIVEFS (the
# binary).  The harness makes H_TMP, a temporary folder removed at exit.

H_TIMEOUT=${H_TIMEOUT:-20}
H_PASSED=0
H_FAILED=0
H_OUT=
H_ERR=
H_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hivefs-test.XXXXXX") || exit 1
declare -A H_PID_OF=() H_ERR_OF=()
H_MOUNTS=0

h_pass() { H_PASSED=$((H_PASSED + 1)); echo "PASS $1"; }
h_fail() {
	local name=$1
	shift
	H_FAILED=$((H_FAILED + 1))
	echo "FAIL $name: $*"
}
h_skip() {
	echo "SKIP: $*"
	exit 77
}

h_bounded() {
	local seconds=$1
	shift
	H_OUT=$H_TMP/last.out
	H_ERR=$H_TMP/last.err
	timeout -k 5 "$seconds" "$@" >"$H_OUT" 2>"$H_ERR" </dev/null
}

h_check() {
	local name=$1 rc
	shift
	h_bounded "$H_TIMEOUT" "$@"
	rc=$?
	if ((rc == 0)); then
		h_pass "$name"
	elif ((rc == 124 || rc == 137)); then
		h_fail "$name" "did not finish within ${H_TIMEOUT}s: $*"
	else
		h_fail "$name" "exit $rc: $* :: $(head -c 400 "$H_ERR")"
	fi
}

h_refuse() {
	local name=$1 pattern=$2 rc
	shift 2
	h_bounded "$H_TIMEOUT" "$@"
	rc=$?
	if ((rc == 0)); then
		h_fail "$name" "succeeded, must be refused: $*"
	elif ((rc == 124 || rc == 137)); then
		h_fail "$name" "hung (killed after ${H_TIMEOUT}s): $*"
	elif ((rc > 128)); then
		h_fail "$name" "killed by signal $((rc - 128)): $*"
	elif ! grep -Eq -- "$pattern" "$H_ERR"; then
		h_fail "$name" "refused without the message /$pattern/: $(head -c 400 "$H_ERR")"
	else
		h_pass "$name"
	fi
}

h_summary() {
	echo "$H_PASSED passed, $H_FAILED failed"
	((H_FAILED == 0))
}

h_mount() {
	local mnt=$1 err pid i
	shift
	mkdir -p "$mnt"
	H_MOUNTS=$((H_MOUNTS + 1))
	err=$H_TMP/daemon.$H_MOUNTS.err
	"$HIVEFS" -f "$@" "$mnt" 2>"$err" &
	pid=$!
	H_PID_OF[$mnt]=$pid
	H_ERR_OF[$mnt]=$err
	for ((i = 0; i < 200; i++)); do
		mountpoint -q "$mnt" && return 0
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 1; }
		sleep 0.05
	done
	return 1
}

h_daemon_err() { echo "${H_ERR_OF[$1]:-/dev/null}"; }

h_unmount() {
	local mnt=$1 pid=${H_PID_OF[$1]:-} i
	mountpoint -q "$mnt" && fusermount3 -u "$mnt" 2>/dev/null
	[[ -n $pid ]] || return 0
	for ((i = 0; i < H_TIMEOUT * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			local rc=$?
			unset "H_PID_OF[$mnt]"
			return $rc
		fi
		sleep 0.05
	done
	return 124
}

h_cleanup() {
	local m
	for m in "${!H_PID_OF[@]}"; do
		mountpoint -q "$m" 2>/dev/null &&
			{ fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null; }
		kill "${H_PID_OF[$m]}" 2>/dev/null
	done
	while read -r m; do
		fusermount3 -uz "$m" 2>/dev/null
	done < <(findmnt -rn -o TARGET | grep -F "$H_TMP/" || true)
	wait 2>/dev/null
	rm -rf "$H_TMP"
}
trap h_cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/harness.sh — what a shell test suite needs, once: results,
# bounded commands, mounts that are always taken down.  Sourced (not run)
# by every tests/*/run.  tests/run judges a suite by its exit status alone
# (0 passed, 77 skipped, anything else failed); the lines below are for
# the people reading the log.
#
# Results
#   h_pass NAME                 count a passed check ("PASS NAME")
#   h_fail NAME [WHY...]        count a failed one and say why
#                               ("FAIL NAME: WHY")
#   h_check NAME CMD...         CMD must exit 0 within H_TIMEOUT seconds.
#                               A shell function runs in this shell (so it
#                               may change the suite's state) and bounds
#                               itself; anything else runs under timeout(1)
#   h_refuse NAME PATTERN CMD...
#                               CMD must fail (not time out, not be killed by a
#                               signal) within H_TIMEOUT seconds, and its
#                               stderr must match the extended regex PATTERN
#                               (the specific refusal, not any failure)
#   h_status NAME STATUS PATTERN CMD...
#                               CMD must exit with exactly STATUS within
#                               H_TIMEOUT seconds, and its stderr must match
#                               the extended regex PATTERN (any stderr when
#                               PATTERN is empty)
#   h_stat_fails NAME ERRNO PATH
#                               stat(PATH) must fail with ERRNO (a symbolic
#                               name: ENOENT, EIO, ENAMETOOLONG...): not
#                               succeed, not hang, not fail otherwise (EIO
#                               or ENOTCONN from a dead daemon is no ENOENT)
#   h_same NAME EXPECTED ACTUAL ACTUAL must be the string EXPECTED
#   h_match NAME PATTERN TEXT   a line of TEXT must match the extended regex
#                               PATTERN (for output already captured)
#   h_content NAME FILE EXPECTED
#                               FILE must hold exactly the bytes
#                               printf '%b' EXPECTED gives (compared as hex,
#                               so no trailing newline is lost)
#   h_result FILE               counts a result a worker process wrote to
#                               FILE (for suites that run checks in parallel):
#                               line 1 "STATUS [TAG]", line 2 the result,
#                               further lines the evidence.  PASS is h_pass,
#                               FAIL (or an empty or missing FILE: the worker
#                               died) is h_fail, any other STATUS is shown and
#                               not counted; STATUS and TAG are left in
#                               H_RESULT and H_RESULT_TAG
#   h_add_counts PASSED FAILED  adds the counts of a program that checks
#                               many things itself (a C test's summary)
#   h_section TITLE...          prints "== TITLE" (a heading in the log)
#   h_summary                   prints "N passed, F failed" and returns 1 if
#                               anything failed
#   h_skip WHY...               prints "SKIP: WHY" and exits 77
#   H_PASSED, H_FAILED          the counts so far
#
# What a suite needs (each skips the suite, exit 77, when it is missing)
#   h_need_fuse                 /dev/fuse that opens, and fusermount3
#   h_need_corpus               the hive corpus: $CORPUS/MANIFEST.tsv
#   h_need_hivex                /usr/bin/python3 that imports hivex
#   h_need_cmd CMD PACKAGE      the command CMD (from Debian's PACKAGE)
#
# Bounded commands
#   h_bounded SECONDS CMD...    runs CMD with a timeout; 124 when it hung
#   H_TIMEOUT                   default bound for h_check/h_refuse/h_status
#                               (20 s; set it before sourcing for a suite
#                               whose checks are slower)
#   H_OUT, H_ERR                files with stdout and stderr of the last
#                               h_check, h_refuse, h_status or h_bounded
#
# Mounts (each mount point is unmounted and its daemon reaped by h_cleanup,
# which the harness installs as the EXIT trap)
#   h_mount MNT HIVEFS-ARGS...  starts `HIVEFS -f ARGS... MNT` in the
#                               background, stderr in $H_TMP/daemon.N.err,
#                               and waits until MNT is a mount point.
#                               Returns 0 once mounted; the daemon's exit
#                               status if it exits first (1 if that was 0);
#                               124 if it was not mounted within
#                               H_MOUNT_WAIT seconds (default 30; the daemon
#                               is killed).  `HIVEFS=OTHER h_mount ...`
#                               mounts with another binary (e.g. ASan's)
#   h_unmount MNT               `hivefs -u MNT`, the documented unmount that
#                               waits for the daemon (again after a second
#                               if busy, then lazily with fusermount3), and
#                               reaps the daemon; returns its exit status
#                               (124 if it did
#                               not exit within H_TIMEOUT), or 1 if its
#                               stderr holds a sanitizer report; says why on
#                               stderr when not 0
#   h_daemon_err MNT            the daemon's stderr file
#   h_daemon_pid MNT            the daemon's pid (empty once reaped)
#
# Files
#   h_corpus_copy NAME          prints the path of a private, writable copy
#                               of corpus hive NAME ($CORPUS/NAME, or
#                               NAME.xz decompressed) below $H_TMP/corpus,
#                               made on first use (the corpus is never
#                               written); set CORPUS first
#   h_xattr PATH NAME           prints the value of extended attribute NAME
#                               of PATH (nothing if it has none)
#   h_hex                       stdin as lowercase hex, without spaces
#
# Clean-up
#   h_at_exit CMD...            run CMD (eval'd) at exit, before the mounts
#                               are taken down; the last registered runs
#                               first.  Use it instead of replacing the
#                               EXIT trap
#
# Set before sourcing (or after, before the first h_mount): HIVEFS (the
# binary).  The harness makes H_TMP, a temporary folder removed at exit.

H_TIMEOUT=${H_TIMEOUT:-20}
H_MOUNT_WAIT=${H_MOUNT_WAIT:-30}
H_PASSED=0
H_FAILED=0
H_OUT=
H_ERR=
H_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hivefs-test.XXXXXX") || exit 1

# A run killed outright (SIGKILL, the end of a machine's session) runs no
# EXIT trap and leaves its mounts behind.  So each harness folder names the
# shell that owns it (pid and start time, as pids are reused), and each new
# run unmounts and removes the folders whose owner is gone.
h_proc_start() { # PID: its start time in clock ticks since boot
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # the name may hold spaces and parentheses
	read -r -a stat <<<"$stat"
	echo "${stat[19]}" # field 22 of proc_pid_stat(5)
}
h_sweep_stale() {
	local dir pid start m
	for dir in "${TMPDIR:-/tmp}"/hivefs-test.*; do
		[[ $dir != "$H_TMP" && -d $dir && -O $dir && -f $dir/.owner ]] || continue
		if ! { read -r pid start <"$dir/.owner" && [[ $pid =~ ^[0-9]+$ ]]; }; then continue; fi
		[[ $(h_proc_start "$pid") == "$start" ]] && continue # still running
		while read -r m; do
			fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done < <(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r)
		rm -rf --one-file-system "$dir"
		echo "harness: unmounted and removed $dir (its run, pid $pid, was killed)"
	done
}
echo "$$ $(h_proc_start $$)" >"$H_TMP/.owner"
h_sweep_stale
declare -A H_PID_OF=() H_ERR_OF=()
declare -a H_AT_EXIT=()
H_MOUNTS=0
H_SANITIZER_RE='Sanitizer|runtime error:'

h_pass() { H_PASSED=$((H_PASSED + 1)); echo "PASS $1"; }
h_fail() {
	local name=$1
	shift
	H_FAILED=$((H_FAILED + 1))
	if (($#)); then echo "FAIL $name: $*"; else echo "FAIL $name"; fi
}
h_skip() {
	echo "SKIP: $*"
	exit 77
}
h_section() { echo "== $*"; }

h_need_cmd() { command -v "$1" >/dev/null || h_skip "$1 not installed (package $2)"; }
h_need_fuse() {
	[[ -c /dev/fuse ]] || h_skip "/dev/fuse does not exist"
	{ exec 3<>/dev/fuse; } 2>/dev/null || h_skip "/dev/fuse cannot be opened (no permission?)"
	exec 3>&-
	h_need_cmd fusermount3 fuse3
}
h_need_corpus() {
	[[ -f $CORPUS/MANIFEST.tsv ]] || h_skip "corpus not found at $CORPUS (no MANIFEST.tsv; set HIVEFS_CORPUS)"
}
h_need_hivex() {
	/usr/bin/python3 -c 'import hivex' 2>/dev/null ||
		h_skip "/usr/bin/python3 cannot import hivex (package python3-hivex)"
}

h_bounded() {
	local seconds=$1
	shift
	H_OUT=$H_TMP/last.out
	H_ERR=$H_TMP/last.err
	timeout -k 5 "$seconds" "$@" >"$H_OUT" 2>"$H_ERR" </dev/null
}

# h_run CMD... — h_bounded with H_TIMEOUT, or a shell function in this shell.
h_run() {
	if declare -F "$1" >/dev/null; then
		H_OUT=$H_TMP/last.out
		H_ERR=$H_TMP/last.err
		"$@" >"$H_OUT" 2>"$H_ERR" </dev/null
	else
		h_bounded "$H_TIMEOUT" "$@"
	fi
}

# h_said — the head of what the last command said (stderr, else stdout).
h_said() {
	if [[ -s $H_ERR ]]; then head -c 400 "$H_ERR"; else head -c 400 "$H_OUT"; fi
}

h_check() {
	local name=$1 rc
	shift
	h_run "$@"
	rc=$?
	if ((rc == 0)); then
		h_pass "$name"
	elif ((rc == 124 || rc == 137)); then
		h_fail "$name" "did not finish within ${H_TIMEOUT}s: $*"
	else
		h_fail "$name" "exit $rc: $* :: $(h_said)"
	fi
}

h_refuse() {
	local name=$1 pattern=$2 rc
	shift 2
	h_run "$@"
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

h_status() {
	local name=$1 want=$2 pattern=$3 rc
	shift 3
	h_run "$@"
	rc=$?
	if ((rc == want)) && { [[ -z $pattern ]] || grep -Eq -- "$pattern" "$H_ERR"; }; then
		h_pass "$name"
	elif ((rc != want)); then
		h_fail "$name" "exit $rc, expected $want: $* :: $(h_said)"
	else
		h_fail "$name" "exit $rc without the message /$pattern/: $(head -c 400 "$H_ERR")"
	fi
}

h_stat_fails() {
	local name=$1 want=$2 path=$3
	h_bounded "$H_TIMEOUT" /usr/bin/python3 -c '
import errno, os, sys
try:
    os.stat(sys.argv[1])
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
else:
    print("no error")' "$path"
	local rc=$? got
	got=$(head -c 100 "$H_OUT")
	if ((rc != 0)); then
		h_fail "$name" "stat $path: exit $rc (hung or crashed), expected $want"
	elif [[ $got != "$want" ]]; then
		h_fail "$name" "stat $path: $got, expected $want"
	else
		h_pass "$name"
	fi
}

h_same() {
	if [[ $2 == "$3" ]]; then
		h_pass "$1"
	else
		h_fail "$1" "expected '$2', got '$3'"
	fi
}

h_match() {
	if grep -Eq -- "$2" <<<"$3"; then
		h_pass "$1"
	else
		h_fail "$1" "no line matches /$2/ in: $(head -c 400 <<<"$3")"
	fi
}

h_result() {
	local file=$1
	H_RESULT=FAIL H_RESULT_TAG=
	if [[ ! -s $file ]]; then
		h_fail "$file" "no result (the worker died)"
		return
	fi
	read -r H_RESULT H_RESULT_TAG <"$file"
	case $H_RESULT in
	PASS) h_pass "$(sed -n 2p "$file")" ;;
	FAIL) h_fail "$(sed -n 2p "$file")"; tail -n +3 "$file" ;;
	*) tail -n +2 "$file" ;;
	esac
}

h_add_counts() {
	H_PASSED=$((H_PASSED + $1))
	H_FAILED=$((H_FAILED + $2))
}

h_hex() { od -An -tx1 -v | tr -d ' \n'; }

h_content() {
	local want got
	want=$(printf '%b' "$3" | h_hex)
	got=$(h_hex <"$2")
	if [[ $want == "$got" ]]; then
		h_pass "$1"
	else
		h_fail "$1" "$2: expected bytes $want ('$3'), got $got"
	fi
}

h_xattr() { getfattr --only-values --absolute-names -n "$2" -- "$1" 2>/dev/null; }

h_corpus_copy() {
	local name=$1 src out
	src=$CORPUS/$name
	[[ -f $src ]] || src=$CORPUS/$name.xz
	out=$H_TMP/corpus/$name
	if [[ ! -f $out ]]; then
		mkdir -p "$(dirname "$out")"
		if [[ $src == *.xz ]]; then
			xz -dkc -- "$src" >"$out" || { rm -f "$out"; return 1; }
		else
			cp -- "$src" "$out" || return 1
		fi
	fi
	printf '%s\n' "$out"
}

h_summary() {
	echo "$H_PASSED passed, $H_FAILED failed"
	((H_FAILED == 0))
}

h_mount() {
	local mnt=$1 err pid i rc
	shift
	mkdir -p "$mnt"
	H_MOUNTS=$((H_MOUNTS + 1))
	err=$H_TMP/daemon.$H_MOUNTS.err
	"$HIVEFS" -f "$@" "$mnt" 2>"$err" &
	pid=$!
	H_PID_OF[$mnt]=$pid
	H_ERR_OF[$mnt]=$err
	for ((i = 0; i < H_MOUNT_WAIT * 20; i++)); do
		mountpoint -q "$mnt" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			rc=$?
			unset "H_PID_OF[$mnt]"
			return $((rc == 0 ? 1 : rc))
		fi
		sleep 0.05
	done
	echo "mount on $mnt did not become ready within ${H_MOUNT_WAIT}s" >&2
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "H_PID_OF[$mnt]"
	return 124
}

h_daemon_err() { echo "${H_ERR_OF[$1]:-/dev/null}"; }
h_daemon_pid() { echo "${H_PID_OF[$1]:-}"; }

h_unmount() {
	local mnt=$1 pid=${H_PID_OF[$1]:-} i rc=124
	if mountpoint -q "$mnt"; then
		# Its status is the daemon's, which is taken from wait below.
		timeout "$H_TIMEOUT" "$HIVEFS" -u "$mnt" 2>/dev/null ||
			{ mountpoint -q "$mnt" && { sleep 1; timeout "$H_TIMEOUT" "$HIVEFS" -u "$mnt" 2>/dev/null; }; } ||
			{ mountpoint -q "$mnt" && fusermount3 -uz "$mnt"; }
	fi
	[[ -n $pid ]] || return 0
	for ((i = 0; i < H_TIMEOUT * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			rc=$?
			unset "H_PID_OF[$mnt]"
			break
		fi
		sleep 0.05
	done
	if ((rc == 0)) && grep -qE "$H_SANITIZER_RE" "${H_ERR_OF[$mnt]}"; then
		rc=1
	fi
	if ((rc != 0)); then
		echo "daemon for $mnt: exit $rc$( ((rc == 124)) && echo ' (still running)')" >&2
		grep -m 8 -E 'ERROR|runtime error|SUMMARY|#[0-3] ' "${H_ERR_OF[$mnt]}" | sed 's/^/    /' >&2
	fi
	return $rc
}

h_at_exit() { H_AT_EXIT+=("$*"); }

h_cleanup() {
	local m i
	for ((i = ${#H_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${H_AT_EXIT[$i]}"
	done
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
trap 'exit 129' HUP
trap 'exit 130' INT TERM

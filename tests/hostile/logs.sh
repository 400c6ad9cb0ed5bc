# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/hostile/logs.sh — the "logs" section of tests/hostile/run: dirty
# hives with crafted transaction logs (tests/hostile/craft_logs.py: HvLE
# entries claiming almost 4 GiB of bins, pages far beyond the hive, growth
# with a hole, 4000 tiny entries over two logs, old-format logs whose base
# block claims 4 GiB or whose only dirty sector lies far out; all with valid
# hashes and checksums, and sound ones beside them).  For each: hivectl
# info, recover -o OUT, check, and a read-only mount walked with find, each
# within LOGS_SECONDS, with peak RSS under LOGS_RSS_KB (GNU time's %M), and
# no output bigger than the hive and its logs together.  Sound logs must be
# replayed, hostile ones refused with the reason.

LOGS_SECONDS=${LOGS_SECONDS:-10}
LOGS_RSS_KB=${LOGS_RSS_KB:-65536}

# logs_measured NAME EXPECT_RC CMD... — CMD within LOGS_SECONDS, its exit
# status EXPECT_RC ("0" or "fail"), its peak RSS under the bound.  stdout
# and stderr in H_OUT/H_ERR (GNU time's line is kept out of H_ERR).
logs_measured() {
	local name=$1 expect=$2 rc kb
	shift 2
	h_bounded "$LOGS_SECONDS" /usr/bin/time -f %M -o "$H_TMP/rss" "$@"
	rc=$?
	kb=$(tail -n 1 "$H_TMP/rss" 2>/dev/null)
	if ((rc == 124 || rc == 137)); then
		h_fail "$name" "did not finish within ${LOGS_SECONDS}s: $*"
	elif ((rc > 128)); then
		h_fail "$name" "killed by signal $((rc - 128)): $*"
	elif [[ $expect == 0 && $rc != 0 ]]; then
		h_fail "$name" "exit $rc: $* :: $(head -c 400 "$H_ERR")"
	elif [[ $expect == fail && $rc == 0 ]]; then
		h_fail "$name" "succeeded, must be refused: $*"
	elif ! [[ $kb =~ ^[0-9]+$ ]] || ((kb > LOGS_RSS_KB)); then
		h_fail "$name" "peak RSS ${kb:-unknown} KB (bound $LOGS_RSS_KB KB): $*"
	else
		return 0
	fi
	return 1
}

# logs_says NAME PATTERN FILE — FILE (stdout or stderr) matches PATTERN.
logs_says() {
	if grep -Eq -- "$2" "$3"; then
		h_pass "$1"
	else
		h_fail "$1" "no /$2/ in: $(head -c 400 "$3")"
	fi
}

# The mount's daemon runs under GNU time so that its peak RSS is known:
# h_mount runs "$HIVEFS -f ARGS MNT", and this wrapper stands in for it.
logs_mount_walk() {
	local name=$1 hive=$2 mnt=$H_TMP/logs-mnt real=$HIVEFS kb
	cat >"$H_TMP/hivefs-timed" <<EOF
#!/bin/sh
exec /usr/bin/time -f %M -o "$H_TMP/daemon-rss" "$real" "\$@"
EOF
	chmod 755 "$H_TMP/hivefs-timed"
	rm -f "$H_TMP/daemon-rss"
	HIVEFS=$H_TMP/hivefs-timed
	if ! h_mount "$mnt" -o ro "$hive"; then
		HIVEFS=$real
		h_fail "$name mount" "did not mount: $(head -c 400 "$(h_daemon_err "$mnt")")"
		return
	fi
	HIVEFS=$real
	if h_bounded "$LOGS_SECONDS" find "$mnt" -print; then
		h_pass "$name mount: find walks it ($(wc -l <"$H_OUT") entries)"
	else
		h_fail "$name mount" "find failed or hung: $(head -c 300 "$H_ERR")"
	fi
	h_unmount "$mnt"
	kb=$(tail -n 1 "$H_TMP/daemon-rss" 2>/dev/null)
	if [[ $kb =~ ^[0-9]+$ ]] && ((kb <= LOGS_RSS_KB)); then
		h_pass "$name mount: daemon peak RSS $kb KB"
	else
		h_fail "$name mount" "daemon peak RSS ${kb:-unknown} KB (bound $LOGS_RSS_KB KB)"
	fi
}

hostile_logs() {
	local L=$H_TMP/logs name expect dir hive bound out size
	mkdir -p "$L"
	if ! new_hive "$L/clean.hive" ||
		! "$PY" "$HERE/craft_logs.py" "$L/clean.hive" "$L/cases" >"$L/list"; then
		h_fail "logs setup" "could not craft the logs"
		return
	fi
	while read -r name expect; do
		dir=$L/cases/$name
		hive=$dir/hive
		# What a sound replay can make: the hive and its logs together.
		bound=$(cat "$dir"/* | wc -c)

		if logs_measured "$name info" 0 "$HIVECTL" info "$hive"; then
			if [[ $expect == replays ]]; then
				logs_says "$name info: replayed" '^recovery: +replayed' "$H_OUT"
			else
				logs_says "$name info: refused, with the reason" \
					'^recovery: +log replay failed: .*(does not carry|not carry sector)' "$H_OUT"
			fi
		fi

		out=$L/$name.out
		rm -f "$out"
		if [[ $expect == replays ]]; then
			if logs_measured "$name recover" 0 "$HIVECTL" recover -o "$out" "$hive"; then
				size=$(stat -c %s "$out")
				if ((size <= bound)); then
					h_pass "$name recover: $size bytes (bound $bound)"
				else
					h_fail "$name recover" "wrote $size bytes, more than the $bound of hive and logs"
				fi
			fi
		elif logs_measured "$name recover" fail "$HIVECTL" recover -o "$out" "$hive"; then
			logs_says "$name recover: refused, with the reason" \
				'log replay failed: .*(does not carry|not carry sector)' "$H_ERR"
			if [[ -e $out ]]; then
				h_fail "$name recover" "left $(stat -c %s "$out") bytes at $out"
			fi
		fi

		if logs_measured "$name check" 0 "$HIVECTL" check "$hive"; then
			h_pass "$name check"
		fi
		logs_mount_walk "$name" "$hive"
	done <"$L/list"
}

# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/hostile/files.sh — the "files" section of tests/hostile/run: root's
# tools beside a folder an unprivileged user owns.  The user plants
# symbolic links (to root-owned files, and dangling), FIFOs, directories,
# devices and hard links where a transaction log or the hive is expected.
# For the mount (rw and ro) and every hivectl command, each case must end
# within the harness's bound, leave every file the user does not own with
# its bytes (and create none), and say what it refused and why.

# The refusal each kind of planted file must be named with.
declare -A FILES_WHY=(
	[symlink]='symbolic link'
	[dangling]='symbolic link'
	[fifo]='not a regular file \(a FIFO\)'
	[dir]='not a regular file \(a directory\)'
	[chardev]='not a regular file \(a character device\)'
	[hardlink]='hard links'
)

# files_setup — a fresh folder $D owned by the unprivileged user holding a
# clean hive $D/HIVE (theirs), and root's own files $VICTIM (0600) and
# $VICTIM2, plus $NOWHERE, a path that must never come to exist.
files_setup() {
	local n=$((${FILES_N:-0} + 1))
	FILES_N=$n
	D=$H_TMP/files$n/user
	R=$H_TMP/files$n/root
	mkdir -p "$D" "$R"
	chmod 700 "$R"
	new_hive "$D/HIVE" || return 1
	rm -f "$D"/HIVE.LOG*
	chown -R "$HOSTILE_UID:$HOSTILE_GID" "$D"
	chmod 755 "$D"
	printf 'precious root data\n' >"$R/victim"
	printf 'more root data\n' >"$R/victim2"
	chmod 600 "$R/victim" "$R/victim2"
	VICTIM=$R/victim
	VICTIM2=$R/victim2
	NOWHERE=$R/created-by-hivefs
	VICTIM_SUM=$(sha256sum "$VICTIM" "$VICTIM2" | cut -c1-64 | tr '\n' ' ')
}

# files_plant KIND PATH [TARGET] — what the user leaves at PATH.
files_plant() {
	local kind=$1 path=$2 target=${3:-$VICTIM}
	rm -rf "$path"
	case $kind in
	symlink) ln -s "$target" "$path" ;;
	dangling) ln -s "$NOWHERE" "$path" ;;
	fifo) mkfifo "$path" ;;
	dir) mkdir "$path" ;;
	chardev) mknod "$path" c 1 3 ;;
	# A user cannot hard-link root's files where protected_hardlinks is on,
	# but can where it is off, or with files root gave away: root makes it.
	hardlink) ln "$target" "$path" ;;
	esac
	[[ $kind == hardlink ]] || chown -h "$HOSTILE_UID:$HOSTILE_GID" "$path"
}

# files_untouched NAME — root's files keep their bytes, nothing was created.
files_untouched() {
	local now
	now=$(sha256sum "$VICTIM" "$VICTIM2" | cut -c1-64 | tr '\n' ' ')
	if [[ $now != "$VICTIM_SUM" ]]; then
		h_fail "$1" "a root-owned file was changed through a planted file"
	elif [[ -e $NOWHERE ]]; then
		h_fail "$1" "a file was created through a dangling link: $NOWHERE"
	else
		h_pass "$1 (targets untouched)"
	fi
}

# Changing hivectl commands on a clean hive whose logs are planted: each
# must refuse, naming the log and why, and write nothing through it.
files_hivectl_changes() {
	local kind log cmd
	for kind in symlink dangling fifo dir chardev hardlink; do
		for log in LOG1 LOG2; do
			for cmd in set rm mkdir mv; do
				files_setup || { h_fail "files setup" "cannot make a hive"; return; }
				files_plant "$kind" "$D/HIVE.$log"
				# The other log is planted too: the first commit empties it.
				[[ $log == LOG1 ]] && files_plant symlink "$D/HIVE.LOG2" "$VICTIM2"
				local name="hivectl $cmd, $kind as HIVE.$log"
				case $cmd in
				set) h_refuse "$name" "${FILES_WHY[$kind]}" \
					"$HIVECTL" set -t sz "$D/HIVE" 'Software\Test' Name evil ;;
				rm) h_refuse "$name" "${FILES_WHY[$kind]}" \
					"$HIVECTL" rm "$D/HIVE" 'Software\Test' Count ;;
				mkdir) h_refuse "$name" "${FILES_WHY[$kind]}" \
					"$HIVECTL" mkdir "$D/HIVE" 'Software\New' ;;
				mv) h_refuse "$name" "${FILES_WHY[$kind]}" \
					"$HIVECTL" mv "$D/HIVE" 'Software\Test' 'Software\Moved' ;;
				esac
				files_untouched "$name"
			done
		done
	done
}

# The read-write mount: a write, then the unmount commits.  The planted
# log must be refused with its reason (at mount, at the write, or at the
# commit), and nothing reaches the targets.
files_mount_rw() {
	local kind mnt rc msg
	for kind in symlink dangling fifo dir chardev hardlink; do
		files_setup || return
		files_plant "$kind" "$D/HIVE.LOG1"
		files_plant symlink "$D/HIVE.LOG2" "$VICTIM2"
		mnt=$H_TMP/files$FILES_N/mnt
		msg=$H_TMP/files$FILES_N/msg
		: >"$msg"
		if h_mount "$mnt" "$D/HIVE" 2>>"$msg"; then
			h_bounded "$H_TIMEOUT" sh -c "echo evil > '$mnt/Software/Test/Name'"
			cat "$H_ERR" >>"$msg"
			h_unmount "$mnt"
			rc=$?
			((rc == 124)) && h_fail "mount rw, $kind as HIVE.LOG1" "the daemon did not exit"
		fi
		cat "$(h_daemon_err "$mnt")" >>"$msg" 2>/dev/null
		if grep -Eq -- "${FILES_WHY[$kind]}" "$msg"; then
			h_pass "mount rw, $kind as HIVE.LOG1: says why"
		else
			h_fail "mount rw, $kind as HIVE.LOG1" "no message /${FILES_WHY[$kind]}/: $(head -c 300 "$msg")"
		fi
		files_untouched "mount rw, $kind as HIVE.LOG1"
	done
}

# A dirty hive (a real one from the corpus, with its two logs) whose logs
# are replaced by planted files: nothing is read through them, nothing
# hangs, and the reason is reported.  A log that is a symbolic link to a
# real log elsewhere must not be replayed either.
files_dirty_reads() {
	local src=$CORPUS/DFIRArtifactMuseum/Registry/Win11 kind
	if [[ ! -f $src/BBI.LOG1 ]]; then
		h_fail "dirty hive" "corpus hive $src/BBI missing"
		return
	fi
	for kind in symlink fifo dir chardev; do
		files_setup || return
		cp "$src/BBI" "$D/BBI"
		cp "$src/BBI.LOG1" "$R/real.LOG1"
		cp "$src/BBI.LOG2" "$R/real.LOG2"
		chmod 644 "$R"/real.LOG*
		chown -R "$HOSTILE_UID:$HOSTILE_GID" "$D"
		files_plant "$kind" "$D/BBI.LOG1" "$R/real.LOG1"
		files_plant "$kind" "$D/BBI.LOG2" "$R/real.LOG2"
		local name="hivectl info, dirty hive, $kind as its logs"
		h_bounded "$H_TIMEOUT" "$HIVECTL" info "$D/BBI"
		local rc=$?
		if ((rc == 124 || rc == 137)); then
			h_fail "$name" "hung"
		elif grep -q 'replayed [0-9]* log entr' "$H_OUT"; then
			h_fail "$name" "replayed logs through a planted $kind"
		elif ! grep -Eq -- "${FILES_WHY[$kind]}" "$H_OUT" "$H_ERR"; then
			h_fail "$name" "no message /${FILES_WHY[$kind]}/: $(cat "$H_OUT" "$H_ERR" | head -c 400)"
		else
			h_pass "$name"
		fi
		h_refuse "hivectl recover -o, dirty hive, $kind as its logs" \
			"${FILES_WHY[$kind]}" "$HIVECTL" recover -o "$R/out" "$D/BBI"
		[[ -e $R/out ]] && h_fail "recover, $kind logs" "wrote $R/out from unusable logs"
		local mnt=$H_TMP/files$FILES_N/mnt
		if h_mount "$mnt" -o ro "$D/BBI"; then
			h_check "ro mount of a dirty hive, $kind as its logs: find" find "$mnt"
			h_unmount "$mnt"
			if grep -q 'replayed [0-9]* log entr' "$(h_daemon_err "$mnt")"; then
				h_fail "ro mount, $kind logs" "replayed logs through a planted $kind"
			elif grep -Eq -- "${FILES_WHY[$kind]}" "$(h_daemon_err "$mnt")"; then
				h_pass "ro mount of a dirty hive, $kind as its logs: says why they are not used"
			else
				h_fail "ro mount, $kind logs" "no reason given: $(head -c 300 "$(h_daemon_err "$mnt")")"
			fi
		else
			# Refusing the mount is fine too, with the reason.
			if grep -Eq -- "${FILES_WHY[$kind]}" "$(h_daemon_err "$mnt")"; then
				h_pass "ro mount of a dirty hive, $kind as its logs: refused with the reason"
			else
				h_fail "ro mount, $kind logs" "failed without the reason: $(head -c 300 "$(h_daemon_err "$mnt")")"
			fi
		fi
		files_untouched "dirty hive, $kind as its logs"
	done
}

# Planted files given as the hive itself: every command ends at once with
# the reason; the mount too.
files_as_hive() {
	local kind cmd
	for kind in fifo dir chardev; do
		files_setup || return
		files_plant "$kind" "$D/PLANT"
		for cmd in info check ls dump export; do
			h_refuse "hivectl $cmd on a $kind" "${FILES_WHY[$kind]}" \
				"$HIVECTL" "$cmd" "$D/PLANT"
		done
		h_refuse "hivectl set on a $kind" "${FILES_WHY[$kind]}" \
			"$HIVECTL" set -t sz "$D/PLANT" '' v x
		h_refuse "hivectl recover on a $kind" "${FILES_WHY[$kind]}" \
			"$HIVECTL" recover -o "$R/out" "$D/PLANT"
		h_refuse "hivectl create on a $kind" "exists|${FILES_WHY[$kind]}" \
			"$HIVECTL" create "$D/PLANT"
		local opt mnt
		for opt in ro rw; do
			mnt=$H_TMP/files$FILES_N/mnt-$opt
			if h_mount "$mnt" -o "$opt" "$D/PLANT"; then
				h_fail "mount -o $opt of a $kind" "mounted"
				h_unmount "$mnt"
			elif grep -Eq -- "${FILES_WHY[$kind]}" "$(h_daemon_err "$mnt")"; then
				h_pass "mount -o $opt of a $kind: refused with the reason"
			else
				h_fail "mount -o $opt of a $kind" "no reason given: $(head -c 300 "$(h_daemon_err "$mnt")")"
			fi
		done
		files_untouched "planted $kind as the hive"
	done

	# A symbolic link given as the hive names the file it points to (the
	# user chose that path): the logs are looked for beside the target,
	# never beside the link.
	files_setup || return
	cp "$D/HIVE" "$R/roots-hive"
	ln -s "$R/roots-hive" "$D/LINKED"
	chown -h "$HOSTILE_UID:$HOSTILE_GID" "$D/LINKED"
	files_plant symlink "$D/LINKED.LOG1"
	h_check "hivectl set through a linked hive" \
		"$HIVECTL" set -t sz "$D/LINKED" 'Software\Test' Name changed
	if [[ -e $R/roots-hive.LOG1 || -e $R/roots-hive.LOG2 ]]; then
		h_pass "linked hive: the log is written beside the real file"
	else
		h_fail "linked hive" "no log beside $R/roots-hive"
	fi
	files_untouched "linked hive with a planted log beside the link"

	# A hive with a second hard link (root's own hive, linked into the
	# user's folder): never written through either name.
	files_setup || return
	cp "$D/HIVE" "$R/roots-hive"
	local before
	before=$(sha256sum <"$R/roots-hive")
	ln "$R/roots-hive" "$D/HARD"
	h_refuse "hivectl set on a hive with two hard links" 'hard links' \
		"$HIVECTL" set -t sz "$D/HARD" 'Software\Test' Name evil
	local mnt=$H_TMP/files$FILES_N/mnt-hard
	if h_mount "$mnt" "$D/HARD"; then
		h_bounded "$H_TIMEOUT" sh -c "echo evil > '$mnt/Software/Test/Name'"
		h_unmount "$mnt"
	fi
	if [[ $(sha256sum <"$R/roots-hive") == "$before" ]]; then
		h_pass "hard-linked hive: unchanged after hivectl set and a rw mount"
	else
		h_fail "hard-linked hive" "changed through the second name"
	fi
	if grep -q 'hard links' "$(h_daemon_err "$mnt")"; then
		h_pass "hard-linked hive: the mount says why it is read-only"
	else
		h_fail "hard-linked hive" "the mount did not say why: $(head -c 300 "$(h_daemon_err "$mnt")")"
	fi
}

hostile_files() {
	files_hivectl_changes
	files_mount_rw
	files_dirty_reads
	files_as_hive
}

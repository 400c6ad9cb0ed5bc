# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/hostile/mount.sh — the "mount" section of tests/hostile/run: what
# the read-write mount does when others share it or the ground moves.
#
#   permissions  with -o allow_other, an unprivileged user can do only what
#                the modes shown allow (a root-owned 0600 hive: nothing;
#                0644: read); modes and owners follow the hive file, -o
#                uid=/gid=/umask and -o ro; -o no_default_permissions
#                gives the checks up
#   replaced     the hive deleted or replaced (rm, mv NEW HIVE) while
#                mounted: changes and fsync fail with EIO, nothing is
#                written beside the new file, the daemon says so and exits 1
#   full         a full file system: fsync gets ENOSPC, what was fsync'ed
#                before is intact, later changes EIO, exit 1; a dirty hive
#                whose recovered state cannot be written mounts read-only
#   nonregular   a FIFO, a directory or a device given as the hive is
#                refused at once

# A command as the unprivileged user (h_check/h_refuse run programs, not
# shell functions, so this is an array).
MOUNT_AS_USER=(setpriv --reuid="$HOSTILE_UID" --regid="$HOSTILE_GID" --clear-groups --)

# Write DATA to FILE (O_CREAT|O_TRUNC), fsync, close; exit 1 with the
# error of the first step that failed ("open: [Errno 5] Input/output error").
MOUNT_WRITE_FSYNC='
import os, sys
path, data = sys.argv[1], sys.argv[2].encode()
step = "open"
try:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    step = "write"; os.write(fd, data)
    step = "fsync"; os.fsync(fd)
    step = "close"; os.close(fd)
except OSError as e:
    print(f"{step}: {e}", file=sys.stderr)
    sys.exit(1)
'
MOUNT_WRITE=("$PY" -c "$MOUNT_WRITE_FSYNC")

# The bytes of a REG_SZ value as text, read by hivex: mount_hivex_sz HIVE KEY VALUE
MOUNT_HIVEX_SZ='
import sys, hivex
h = hivex.Hivex(sys.argv[1])
node = h.root()
for part in sys.argv[2].split("\\"):
    node = h.node_get_child(node, part)
    if node is None:
        sys.exit("no key " + part)
v = h.node_get_value(node, sys.argv[3])
t, data = h.value_value(v)
print(data.decode("utf-16-le").rstrip("\0"))
'
mount_hivex_sz() { "$PY" -c "$MOUNT_HIVEX_SZ" "$@"; }

# mount_unmount_status NAME MNT EXPECTED-STATUS
mount_unmount_status() {
	h_unmount "$2"
	local rc=$?
	h_same "$1" "$3" "$rc"
}

mount_permissions() {
	local d=$H_TMP/perm m=$H_TMP/perm/m hive=$H_TMP/perm/HIVE
	mkdir -p "$d"

	# A root-owned 0600 hive, shared with allow_other: the other user can
	# neither read, nor list, nor change anything.
	new_hive "$hive" && chmod 600 "$hive" && rm -f "$hive".LOG*
	if h_mount "$m" -o allow_other "$hive"; then
		h_same "0600 hive: modes and owner of a key" "700 0 0" "$(stat -c '%a %u %g' "$m/Software")"
		h_same "0600 hive: modes and owner of a value" "600 0 0" "$(stat -c '%a %u %g' "$m/Software/Test/Name")"
		h_same "0600 hive: the root" "700" "$(stat -c '%a' "$m")"
		h_check "allow_other brings default_permissions" \
			sh -c "findmnt -n -o OPTIONS '$m' | grep -q default_permissions"
		h_refuse "0600 hive: the other user cannot list" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" ls "$m"
		h_refuse "0600 hive: ... nor list a key" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" ls "$m/Software/Test"
		h_refuse "0600 hive: ... nor read a value" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" cat "$m/Software/Test/Name"
		h_refuse "0600 hive: ... nor write one" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" sh -c "echo evil > '$m/Software/Test/Name'"
		h_refuse "0600 hive: ... nor create one" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" touch "$m/Evil"
		h_refuse "0600 hive: ... nor make a key" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" mkdir "$m/EvilKey"
		h_refuse "0600 hive: ... nor read an xattr" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" getfattr -n user.winreg.type "$m/Software/Test/Name"
		h_check "0600 hive: root still reads" grep -qx hello "$m/Software/Test/Name"
		mount_unmount_status "0600 hive: unmount" "$m" 0
		h_same "0600 hive: unchanged" "hello" "$(mount_hivex_sz "$hive" 'Software\Test' Name 2>&1)"
	else
		h_fail "allow_other mount of a 0600 hive" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# 0644: the other user reads, and changes nothing.
	chmod 644 "$hive"
	if h_mount "$m" -o allow_other "$hive"; then
		h_same "0644 hive: modes of a key" "755 0 0" "$(stat -c '%a %u %g' "$m/Software")"
		h_same "0644 hive: modes of a value" "644 0 0" "$(stat -c '%a %u %g' "$m/Software/Test/Name")"
		h_check "0644 hive: the other user lists" "${MOUNT_AS_USER[@]}" ls "$m/Software/Test"
		h_check "0644 hive: ... reads a value" "${MOUNT_AS_USER[@]}" grep -qx hello "$m/Software/Test/Name"
		h_check "0644 hive: ... reads an xattr" \
			"${MOUNT_AS_USER[@]}" getfattr -n user.winreg.type "$m/Software/Test/Name"
		h_refuse "0644 hive: ... cannot write a value" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" sh -c "echo evil > '$m/Software/Test/Name'"
		h_refuse "0644 hive: ... nor truncate one" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" truncate -s 0 "$m/Software/Test/Name"
		h_refuse "0644 hive: ... nor create one" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" touch "$m/Software/Test/Evil"
		h_refuse "0644 hive: ... nor delete one" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" rm -f "$m/Software/Test/Count"
		h_refuse "0644 hive: ... nor rename one" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" mv "$m/Software/Test/Count" "$m/Software/Test/Evil"
		h_refuse "0644 hive: ... nor make a key" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" mkdir "$m/Software/EvilKey"
		h_refuse "0644 hive: ... nor remove a key" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" rmdir "$m/Software/Test"
		h_refuse "0644 hive: ... nor set an xattr" 'Permission denied' \
			"${MOUNT_AS_USER[@]}" setfattr -n user.winreg.type -v REG_BINARY "$m/Software/Test/Name"
		h_refuse "0644 hive: ... nor touch a key" 'Permission denied|Operation not permitted' \
			"${MOUNT_AS_USER[@]}" touch -d 2001-01-01 "$m/Software/Test"
		h_check "0644 hive: root still writes" sh -c "echo rooted > '$m/Software/Test/Root'"
		mount_unmount_status "0644 hive: unmount" "$m" 0
		h_same "0644 hive: the user changed nothing" "hello" \
			"$(mount_hivex_sz "$hive" 'Software\Test' Name 2>&1)"
		h_same "0644 hive: root's change is there" "rooted" \
			"$(mount_hivex_sz "$hive" 'Software\Test' Root 2>&1)"
	else
		h_fail "allow_other mount of a 0644 hive" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# Read-only: no write bits.  A umask takes bits away.
	if h_mount "$m" -o ro "$hive"; then
		h_same "-o ro: modes" "555 444" \
			"$(stat -c '%a' "$m/Software" "$m/Software/Test/Name" | tr '\n' ' ' | sed 's/ $//')"
		h_unmount "$m"
	else
		h_fail "-o ro mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi
	if h_mount "$m" -o umask=077 "$hive"; then
		h_same "-o umask=077 on a 0644 hive: modes" "700 600" \
			"$(stat -c '%a' "$m/Software" "$m/Software/Test/Name" | tr '\n' ' ' | sed 's/ $//')"
		h_unmount "$m"
	else
		h_fail "-o umask mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# -o uid= makes the other user the owner: then they may change it.
	chmod 600 "$hive"
	if h_mount "$m" -o allow_other,uid="$HOSTILE_UID",gid="$HOSTILE_GID" "$hive"; then
		h_same "-o uid=,gid=: owner shown" "600 $HOSTILE_UID $HOSTILE_GID" \
			"$(stat -c '%a %u %g' "$m/Software/Test/Name")"
		h_check "-o uid=: the owner writes" \
			"${MOUNT_AS_USER[@]}" sh -c "echo theirs > '$m/Software/Test/Name'"
		mount_unmount_status "-o uid=: unmount" "$m" 0
		h_same "-o uid=: the owner's change is stored" "theirs" \
			"$(mount_hivex_sz "$hive" 'Software\Test' Name 2>&1)"
	else
		h_fail "-o uid= mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# The explicit opt-out: no checks, whatever the modes say.
	if h_mount "$m" -o allow_other,no_default_permissions "$hive"; then
		h_same "no_default_permissions: modes still shown" "600 0 0" \
			"$(stat -c '%a %u %g' "$m/Software/Test/Name")"
		h_check "no_default_permissions: not passed to the kernel" \
			sh -c "! findmnt -n -o OPTIONS '$m' | grep -q default_permissions"
		h_check "no_default_permissions: the other user reads" \
			"${MOUNT_AS_USER[@]}" grep -qx theirs "$m/Software/Test/Name"
		h_check "no_default_permissions: ... and writes" \
			"${MOUNT_AS_USER[@]}" sh -c "echo anyone > '$m/Software/Test/Name'"
		mount_unmount_status "no_default_permissions: unmount" "$m" 0
		h_same "no_default_permissions: the write is stored" "anyone" \
			"$(mount_hivex_sz "$hive" 'Software\Test' Name 2>&1)"
	else
		h_fail "no_default_permissions mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi
	h_refuse "default_permissions with no_default_permissions: usage error" \
		'contradict' "$HIVEFS" -o default_permissions,no_default_permissions "$hive" "$m"
	h_check "--help names no_default_permissions" \
		sh -c "'$HIVEFS' --help | grep -q no_default_permissions"
}

# mount_files_sum DIR — names and bytes of every file in DIR but the mount.
mount_files_sum() {
	(cd "$1" && find . -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort |
		while read -r f; do printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -c1-64)"; done)
}

mount_replaced() {
	local d m hive new before err

	# mv NEW HIVE with nothing pending: the next change fails itself.
	d=$H_TMP/repl1 m=$H_TMP/repl1/m hive=$H_TMP/repl1/HIVE new=$H_TMP/repl1/NEW
	mkdir -p "$d"
	new_hive "$hive" && "$HIVECTL" create "$new" >/dev/null
	if h_mount "$m" -o commit=0 "$hive"; then
		h_check "replaced: a write + fsync before" "${MOUNT_WRITE[@]}" "$m/Software/Test/Acked" acked
		mv "$new" "$hive"
		before=$(mount_files_sum "$d")
		h_refuse "replaced: the next change fails (echo >)" 'Input/output error' \
			sh -c "echo x > '$m/Software/Test/Name'"
		h_refuse "replaced: write + fsync: EIO" 'Input/output error' \
			"${MOUNT_WRITE[@]}" "$m/Software/Test/New" data
		h_refuse "replaced: mkdir: EIO" 'Input/output error' mkdir "$m/Software/K"
		err=$(h_daemon_err "$m")
		mount_unmount_status "replaced: the daemon exits 1" "$m" 1
		h_check "replaced: the daemon names the hive and what happened" \
			grep -q "$hive: the hive was replaced while mounted" "$err"
		h_same "replaced: the new file and its folder unchanged (no log written)" \
			"$before" "$(mount_files_sum "$d")"
	else
		h_fail "replaced: mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# A change pending when it is replaced: fsync fails, nothing written.
	d=$H_TMP/repl2 m=$H_TMP/repl2/m hive=$H_TMP/repl2/HIVE new=$H_TMP/repl2/NEW
	mkdir -p "$d"
	new_hive "$hive" && "$HIVECTL" create "$new" >/dev/null
	if h_mount "$m" -o commit=0 "$hive"; then
		h_check "replaced, change pending: a write" sh -c "echo pending > '$m/Software/Test/Name'"
		mv "$new" "$hive"
		before=$(mount_files_sum "$d")
		h_refuse "replaced, change pending: write + fsync: EIO" 'fsync: .*Input/output error' \
			"${MOUNT_WRITE[@]}" "$m/Software/Test/Name" more
		h_refuse "replaced, change pending: a later change: EIO" 'Input/output error' \
			touch "$m/Software/Test/Other"
		err=$(h_daemon_err "$m")
		mount_unmount_status "replaced, change pending: exit 1" "$m" 1
		h_check "replaced, change pending: message" \
			grep -q "$hive: the changes made since the last commit are lost: the hive was replaced" "$err"
		h_same "replaced, change pending: nothing written beside the new file" \
			"$before" "$(mount_files_sum "$d")"
		h_check "replaced, change pending: the new file is still an empty hive" \
			sh -c "! '$HIVECTL' ls '$hive' '' | grep -q Software"
	else
		h_fail "replaced, change pending: mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# rm HIVE: the same; no file is made at its path.
	d=$H_TMP/repl3 m=$H_TMP/repl3/m hive=$H_TMP/repl3/HIVE
	mkdir -p "$d"
	new_hive "$hive"
	if h_mount "$m" -o commit=0 "$hive"; then
		h_check "deleted: a write" sh -c "echo pending > '$m/Software/Test/Name'"
		rm "$hive"
		before=$(mount_files_sum "$d")
		h_refuse "deleted: fsync: EIO" 'Input/output error' \
			"${MOUNT_WRITE[@]}" "$m/Software/Test/Name" more
		err=$(h_daemon_err "$m")
		mount_unmount_status "deleted: exit 1" "$m" 1
		h_check "deleted: message" grep -q "$hive: the hive was deleted while mounted" "$err"
		h_same "deleted: nothing written in its folder" "$before" "$(mount_files_sum "$d")"
		h_check "deleted: no file at its path" test ! -e "$hive"
	else
		h_fail "deleted: mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# The periodic commit finds it too, and writes nothing.
	d=$H_TMP/repl4 m=$H_TMP/repl4/m hive=$H_TMP/repl4/HIVE new=$H_TMP/repl4/NEW
	mkdir -p "$d"
	new_hive "$hive" && "$HIVECTL" create "$new" >/dev/null
	if h_mount "$m" -o commit=1 "$hive"; then
		h_check "replaced, periodic commit: a write" sh -c "echo pending > '$m/Software/Test/Name'"
		mv "$new" "$hive"
		before=$(mount_files_sum "$d")
		err=$(h_daemon_err "$m")
		h_check "replaced, periodic commit: noticed within 3 s" \
			timeout 5 sh -c "until grep -q 'the hive was replaced while mounted' '$err'; do sleep 0.1; done"
		mount_unmount_status "replaced, periodic commit: exit 1" "$m" 1
		h_same "replaced, periodic commit: nothing written" "$before" "$(mount_files_sum "$d")"
	else
		h_fail "replaced, periodic commit: mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi
}

# mount_tmpfs DIR SIZE — a small tmpfs, unmounted at the end of the
# section or, if the run is cut short, before the harness removes $H_TMP.
MOUNT_TMPFS=()
mount_tmpfs() {
	local prev
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=755" hivefs-test "$1" || return 1
	if ((${#MOUNT_TMPFS[@]} == 0)); then
		prev=$(trap -p EXIT)
		prev=${prev#trap -- \'}
		prev=${prev%\' EXIT}
		MOUNT_TRAP=$prev
		# shellcheck disable=SC2064
		trap "mount_tmpfs_cleanup; $prev" EXIT
	fi
	MOUNT_TMPFS+=("$1")
}
mount_tmpfs_cleanup() {
	local t
	for t in "${MOUNT_TMPFS[@]}"; do
		umount "$t" 2>/dev/null || umount -l "$t" 2>/dev/null
	done
	MOUNT_TMPFS=()
	# shellcheck disable=SC2064
	[[ -n ${MOUNT_TRAP:-} ]] && trap "$MOUNT_TRAP" EXIT
}

# mount_fill DIR KIB — fill DIR's file system until KIB KiB are free.
mount_fill() {
	local avail
	avail=$(df --output=avail -B1024 "$1" | tail -1)
	if (($2 == 0)); then
		dd if=/dev/zero of="$1/fill" bs=4096 status=none 2>/dev/null
	else
		dd if=/dev/zero of="$1/fill" bs=1024 count=$((avail - $2)) status=none
	fi
	return 0
}

mount_full() {
	local t m hive err

	# Full before the commit's log: fsync gets ENOSPC; the hive keeps
	# every fsync'ed change; later changes EIO; exit 1.
	t=$H_TMP/full1 m=$H_TMP/full1-m hive=$H_TMP/full1/HIVE
	mount_tmpfs "$t" 2M || { h_fail "full: tmpfs" "cannot mount a tmpfs"; return; }
	new_hive "$hive"
	if h_mount "$m" -o commit=0 "$hive"; then
		h_check "full: write + fsync with room" "${MOUNT_WRITE[@]}" "$m/Software/Test/Acked" acked
		mount_fill "$t" 0
		h_refuse "full: write + fsync: ENOSPC" 'fsync: .*No space left on device' \
			"${MOUNT_WRITE[@]}" "$m/Software/Test/Big" "$(head -c 50000 /dev/zero | tr '\0' x)"
		h_refuse "full: a later change: EIO" 'Input/output error' \
			sh -c "echo later > '$m/Software/Test/Later'"
		err=$(h_daemon_err "$m")
		mount_unmount_status "full: exit 1" "$m" 1
		h_check "full: the daemon says why" \
			grep -q "$hive: the changes made since the last commit could not be saved (no space left" "$err"
		h_same "full: the fsync'ed value is intact (hivex)" "acked" \
			"$(mount_hivex_sz "$hive" 'Software\Test' Acked 2>&1)"
		h_check "full: hivectl check clean" "$HIVECTL" check "$hive"
		# Mounting again on the still-full file system works.
		if h_mount "$m" "$hive"; then
			h_check "full: remounted, the value reads" grep -qx acked "$m/Software/Test/Acked"
			mount_unmount_status "full: remount unmounts" "$m" 0
		else
			h_fail "full: remount" "$(head -c 300 "$(h_daemon_err "$m")")"
		fi
	else
		h_fail "full: mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi

	# Room for the log but not for the hive to grow: the hive is left
	# dirty, its log holding the last entry.  A read-write mount on the
	# still-full file system cannot write the recovered state: read-only,
	# with the reason; once there is room, it is written.
	t=$H_TMP/full2 m=$H_TMP/full2-m hive=$H_TMP/full2/HIVE
	mount_tmpfs "$t" 2M || { h_fail "full: tmpfs" "cannot mount a tmpfs"; return; }
	new_hive "$hive"
	head -c 60000 /dev/urandom >"$H_TMP/full2-binary"
	if h_mount "$m" -o commit=0 "$hive"; then
		h_check "full, hive cannot grow: write + fsync with room" \
			"${MOUNT_WRITE[@]}" "$m/Software/Test/Acked" acked
		mount_fill "$t" 100
		h_check "full, hive cannot grow: a 60 KB value stored" cp "$H_TMP/full2-binary" "$m/Software/Test/Big"
		h_refuse "full, hive cannot grow: fsync: ENOSPC" 'fsync: .*No space left on device' \
			"${MOUNT_WRITE[@]}" "$m/Software/Test/Small" small
		mount_unmount_status "full, hive cannot grow: exit 1" "$m" 1
		h_check "full, hive cannot grow: the hive is left dirty" \
			sh -c "'$HIVECTL' info '$hive' | grep -q 'replayed'"
		if h_mount "$m" "$hive"; then
			err=$(h_daemon_err "$m")
			h_check "full, remount: read-only" sh -c "findmnt -n -o OPTIONS '$m' | grep -q '^ro'"
			h_check "full, remount: says why" \
				grep -q "$hive: mounting read-only: no space left on its file system" "$err"
			h_check "full, remount: the fsync'ed value reads" grep -qx acked "$m/Software/Test/Acked"
			h_refuse "full, remount: changes refused" 'Read-only file system' \
				sh -c "echo x > '$m/Software/Test/Acked'"
			mount_unmount_status "full, remount: exit 0" "$m" 0
		else
			h_fail "full, remount on a full file system" "failed outright: $(head -c 300 "$(h_daemon_err "$m")")"
		fi
		rm -f "$t/fill"
		if h_mount "$m" "$hive"; then
			h_check "full, room again: mounted read-write" \
				sh -c "findmnt -n -o OPTIONS '$m' | grep -q '^rw'"
			mount_unmount_status "full, room again: exit 0" "$m" 0
			h_same "full, room again: the fsync'ed value (hivex)" "acked" \
				"$(mount_hivex_sz "$hive" 'Software\Test' Acked 2>&1)"
			h_check "full, room again: hivectl check clean" "$HIVECTL" check "$hive"
		else
			h_fail "full, room again: mount" "$(head -c 300 "$(h_daemon_err "$m")")"
		fi
	else
		h_fail "full, hive cannot grow: mount" "$(head -c 300 "$(h_daemon_err "$m")")"
	fi
	mount_tmpfs_cleanup
}

mount_nonregular() {
	local d=$H_TMP/nonreg m=$H_TMP/nonreg/m opt
	mkdir -p "$d/dir" "$m"
	mkfifo "$d/fifo"
	for opt in ro rw; do
		h_refuse "-o $opt of a FIFO: refused at once" 'not a regular file \(a FIFO\)' \
			timeout 5 "$HIVEFS" -f -o "$opt" "$d/fifo" "$m"
		h_refuse "-o $opt of a directory" 'not a regular file \(a directory\)' \
			timeout 5 "$HIVEFS" -f -o "$opt" "$d/dir" "$m"
		h_refuse "-o $opt of a device" 'not a regular file \(a character device\)' \
			timeout 5 "$HIVEFS" -f -o "$opt" /dev/null "$m"
	done
}

hostile_mount() {
	mount_permissions
	mount_replaced
	mount_full
	mount_nonregular
}

/*
 * unmount.h — an unmount that waits for the daemon (unmount.c).
 *
 * The kernel sends no DESTROY to a FUSE mount that is not a block device
 * mount, so `fusermount3 -u` returns while the daemon may still be
 * committing.  The daemon therefore listens, from the moment it is
 * mounted until everything it wrote is final, on an abstract local
 * socket named after its mount's device number; `hivefs -u MNT` (and
 * umount.fuse.hivefs, which umount(8) runs for root) connects to it
 * before unmounting and returns once the daemon has said how it ended
 * and let the socket go.
 */
#ifndef HIVEFS_UNMOUNT_H
#define HIVEFS_UNMOUNT_H

#include <stdbool.h>

/*
 * Daemon side.  unmount_listen() is called once MOUNTPOINT is mounted and
 * before the daemon forks into the background (the socket goes with it);
 * it returns the listening socket, or -1 with a message on stderr (the
 * mount works, but `hivefs -u` cannot wait for it).  unmount_tell() is
 * called last, when no hive or log file is open any more: it gives every
 * waiting unmounter the exit status and MESSAGE (what went wrong, or
 * NULL: the daemon's stderr is gone once it is in the background) and
 * closes the socket.
 */
int unmount_listen(const char *mountpoint);
void unmount_tell(int sock, int status, const char *message);

/*
 * Unmounter side: unmount MOUNTPOINT (umount2() as root, fusermount3 -u
 * otherwise) and wait for the hivefs that served it.  Returns the exit
 * status to give: the daemon's (0 or 1), 1 when the unmount failed, 2
 * when MOUNTPOINT is not a hivefs mount.  LAZY detaches and does not
 * wait.
 */
int unmount_and_wait(const char *mountpoint, bool lazy);

#endif /* HIVEFS_UNMOUNT_H */

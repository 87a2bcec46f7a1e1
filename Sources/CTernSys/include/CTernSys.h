#ifndef CTERNSYS_H
#define CTERNSYS_H
#include <sys/types.h>

/// Whole-file fcntl(2) lock. type: 0 unlock, 1 read, 2 write. wait != 0 blocks (F_SETLKW).
/// Returns 0 or -1 with errno set. Swift cannot call the variadic fcntl with a struct flock.
int tern_fcntl_lock(int fd, int type, int wait);

/// Whole-file open-file-description lock. type: 0 unlock, 1 read, 2 write. wait != 0 blocks (F_OFD_SETLKW).
/// It conflicts with other processes' fcntl locks as a fcntl lock does, and also with OFD locks on other
/// descriptors of this process (two sessions of one worker), and closing another descriptor of the same file
/// does not drop it. Returns 0 or -1 with errno set (EAGAIN: held by someone else, when not waiting).
int tern_ofd_lock(int fd, int type, int wait);

/// Lowers the calling thread's scheduling priority by `increment` nice levels (Linux threads have their own).
/// Returns 0 or -1 with errno set.
int tern_lower_thread_priority(int increment);

/// fcntl(fd, F_SETFD, FD_CLOEXEC) on or off.
int tern_set_cloexec(int fd, int on);

/// Options for tern_spawn.
typedef struct {
    int stdin_fd;      /* -1: /dev/null */
    int stdout_fd;     /* -1: /dev/null */
    int stderr_fd;     /* -1: /dev/null */
    int keep_fd;       /* an extra fd to keep open as itself in the child (-1: none) */
    int new_session;   /* setsid() in the child (daemons) */
    int change_ids;    /* set uid/gid/supplementary groups in the child */
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int ngroups;
    int keep_saved_gid; /* with change_ids: saved_gid becomes the real gid and gid the effective one, so the
                           child (after exec) may setegid() to saved_gid for a moment and back
                           (Dovecot's mail_privileged_group) */
    gid_t saved_gid;
    const char *cwd;   /* NULL: unchanged */
    const int *keep_fds; /* more fds to keep open as themselves in the child */
    int nkeep;
    int block_sighup;  /* start with SIGHUP blocked (otherwise nothing is): one sent before the child's
                          handler is in place stays pending (Dispatch's signal source reads it then)
                          instead of killing the child */
} tern_spawn_options;

/// fork + (setsid, setgroups, setgid, setuid, chdir, dup2) + execve, doing only async-signal-safe calls
/// between fork and exec so it is safe in a multithreaded process. Returns the child's pid or -1.
/// When exec fails the child exits with 127.
pid_t tern_spawn(const char *path, char *const argv[], char *const envp[], const tern_spawn_options *opts);

/// sendmsg(2) of `len` bytes with one descriptor attached as SCM_RIGHTS (`fd` < 0: none), with MSG_NOSIGNAL
/// (EPIPE instead of SIGPIPE) and EINTR retried. Returns the bytes sent (possibly fewer than `len` on a stream
/// socket; the descriptor travels with the first byte) or -1 with errno set. Swift cannot build cmsg headers
/// comfortably, hence this helper.
/// rename(2) that fails with EEXIST instead of replacing an existing `to` (renameat2 RENAME_NOREPLACE).
int tern_rename_noreplace(const char *from, const char *to);

/// socket + bind + chmod + listen of a UNIX stream socket at `path` (close-on-exec). Returns the fd or -1.
int tern_unix_listen(const char *path, unsigned int mode, int backlog);

ssize_t tern_send_fd(int sock, const void *buf, size_t len, int fd);

/// accept4(2) with SOCK_CLOEXEC (Glibc's Swift module does not export accept4).
int tern_accept_cloexec(int listener);

/// recvmsg(2) of up to `len` bytes; a descriptor passed with them is stored in `*fd` (close-on-exec), else
/// -1. Descriptors beyond the first are closed. Returns the bytes read (0 at EOF) or -1 with errno set.
ssize_t tern_recv_fd(int sock, void *buf, size_t len, int *fd);

#endif

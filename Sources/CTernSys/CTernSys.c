#define _GNU_SOURCE
#include "CTernSys.h"
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>

int tern_fcntl_lock(int fd, int type, int wait) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type == 0 ? F_UNLCK : (type == 1 ? F_RDLCK : F_WRLCK);
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    int r;
    do {
        r = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
    } while (r < 0 && errno == EINTR);
    return r;
}

int tern_set_cloexec(int fd, int on) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    return fcntl(fd, F_SETFD, flags);
}

static int null_fd(int flags) { return open("/dev/null", flags); }

pid_t tern_spawn(const char *path, char *const argv[], char *const envp[], const tern_spawn_options *o) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* child: async-signal-safe calls only */
    int in = o->stdin_fd >= 0 ? o->stdin_fd : null_fd(O_RDONLY);
    int out = o->stdout_fd >= 0 ? o->stdout_fd : null_fd(O_WRONLY);
    int err = o->stderr_fd >= 0 ? o->stderr_fd : null_fd(O_WRONLY);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    if (o->keep_fd >= 0) {
        int fl = fcntl(o->keep_fd, F_GETFD);
        if (fl >= 0) fcntl(o->keep_fd, F_SETFD, fl & ~FD_CLOEXEC);
    }
    for (int i = 0; i < o->nkeep; i++) {
        int fl = fcntl(o->keep_fds[i], F_GETFD);
        if (fl >= 0) fcntl(o->keep_fds[i], F_SETFD, fl & ~FD_CLOEXEC);
    }
    if (o->new_session) setsid();
    if (o->change_ids) {
        if (setgroups(o->ngroups, o->groups) < 0) _exit(126);
        if (setgid(o->gid) < 0) _exit(126);
        if (setuid(o->uid) < 0) _exit(126);
    }
    if (o->cwd && chdir(o->cwd) < 0) {
        if (chdir("/") < 0) _exit(126);
    }
    /* close everything above stderr except keep_fd */
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (int fd = 3; fd < max; fd++) {
        int keep = fd == o->keep_fd;
        for (int i = 0; i < o->nkeep && !keep; i++) keep = fd == o->keep_fds[i];
        if (!keep) close(fd);
    }
    execve(path, argv, envp);
    _exit(127);
}

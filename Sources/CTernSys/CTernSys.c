#define _GNU_SOURCE
#include "CTernSys.h"
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/uio.h>

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

int tern_ofd_lock(int fd, int type, int wait) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type == 0 ? F_UNLCK : (type == 1 ? F_RDLCK : F_WRLCK);
    fl.l_whence = SEEK_SET;
    int r;
    do {
        r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    } while (r < 0 && errno == EINTR);
    return r;
}

int tern_lower_thread_priority(int increment) {
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int current = getpriority(PRIO_PROCESS, (id_t)tid);
    if (current == -1 && errno != 0) return -1;
    return setpriority(PRIO_PROCESS, (id_t)tid, current + increment);
}

int tern_set_cloexec(int fd, int on) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    return fcntl(fd, F_SETFD, flags);
}

static int null_fd(int flags) { return open("/dev/null", flags); }

/* close_range(2), or a loop on kernels older than 5.9 */
static void close_span(unsigned int from, unsigned int to) {
    if (syscall(SYS_close_range, from, to, 0) == 0) return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (unsigned int fd = from; fd <= to && fd < (unsigned int)max; fd++) close((int)fd);
}

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
    /* The forking thread's mask may block signals its Dispatch sources read (SIGTERM, SIGHUP, ...): the
       child starts with none blocked, or SIGHUP only. */
    sigset_t mask;
    sigemptyset(&mask);
    if (o->block_sighup) sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    if (o->change_ids) {
        if (setgroups(o->ngroups, o->groups) < 0) _exit(126);
        if (o->keep_saved_gid) {
            /* execve copies the effective gid to the saved one: the privileged group survives as the
               real gid, to which the child may set its effective gid. */
            if (setresgid(o->saved_gid, o->gid, o->saved_gid) < 0) _exit(126);
        } else if (setgid(o->gid) < 0) _exit(126);
        if (setuid(o->uid) < 0) _exit(126);
    }
    if (o->cwd && chdir(o->cwd) < 0) {
        if (chdir("/") < 0) _exit(126);
    }
    /* Close everything above stderr except the kept descriptors. With none kept, one close_range(2) call
       does it; otherwise one call per gap between kept descriptors. */
    int kept[66];
    int nk = 0;
    if (o->keep_fd > 2) kept[nk++] = o->keep_fd;
    for (int i = 0; i < o->nkeep && nk < 64; i++) if (o->keep_fds[i] > 2) kept[nk++] = o->keep_fds[i];
    for (int i = 1; i < nk; i++) {  /* insertion sort: a handful of entries */
        int v = kept[i], j = i - 1;
        while (j >= 0 && kept[j] > v) { kept[j + 1] = kept[j]; j--; }
        kept[j + 1] = v;
    }
    unsigned int from = 3;
    for (int i = 0; i < nk; i++) {
        if ((unsigned int)kept[i] > from) close_span(from, (unsigned int)kept[i] - 1);
        from = (unsigned int)kept[i] + 1;
    }
    close_span(from, ~0U);
    execve(path, argv, envp);
    _exit(127);
}

int tern_accept_cloexec(int listener) {
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

ssize_t tern_send_fd(int sock, const void *buf, size_t len, int fd) {
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union { struct cmsghdr align; char space[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    memset(&control, 0, sizeof control);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        msg.msg_control = control.space;
        msg.msg_controllen = sizeof control.space;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t tern_recv_fd(int sock, void *buf, size_t len, int *fd) {
    *fd = -1;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    /* room for a few descriptors: a peer that sends more has them closed, not leaked */
    union { struct cmsghdr align; char space[CMSG_SPACE(8 * sizeof(int))]; } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof control.space;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int received;
            memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*fd < 0) *fd = received; else close(received);
        }
    }
    return n;
}

int tern_unix_listen(const char *path, unsigned int mode, int backlog) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || chmod(path, (mode_t)mode) < 0
        || listen(fd, backlog) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int tern_rename_noreplace(const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
}

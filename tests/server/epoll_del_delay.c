/* An LD_PRELOAD shim for test_stop: the main thread's EPOLL_CTL_DEL of a
 * listening socket waits 200 ms first, which turns MHD 0.9.75's
 * quiesce race (a worker removing that socket itself meanwhile) from rare
 * into certain. Writes "loaded" to $PL_SHIM_LOG so the test knows it ran. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void announce(void)
{
    const char *path = getenv("PL_SHIM_LOG");
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
    if (fd >= 0) {
        if (write(fd, "loaded\n", 7) != 7)
            abort();
        close(fd);
    }
}

static int is_listening(int fd)
{
    int on = 0;
    socklen_t len = sizeof on;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    int (*real)(int, int, int, struct epoll_event *) =
        (int (*)(int, int, int, struct epoll_event *))dlsym(RTLD_NEXT, "epoll_ctl");
    if (op == EPOLL_CTL_DEL && gettid() == getpid() && is_listening(fd))
        usleep(200000);
    return real(epfd, op, fd, ev);
}

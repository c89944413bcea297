/* Starting the targets the bench drives itself; see launch.h. A process
 * that prints where it listens (pushlab-server, a relay) is waited for
 * through its first line, never by sleeping; nginx by its port. */
#include "launch.h"
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "nchan_conf.h"

/* The pushlab-server beside this executable (installed) or in its build
 * tree's server folder into `out`. Returns 0 or -ENOENT. */
static int find_server(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -ENOENT;
    self[n] = '\0';
    const char *dir = dirname(self);
    snprintf(out, len, "%s/pushlab-server", dir);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, len, "%s/../server/pushlab-server", dir);
    return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

static void child(const char *const *argv, int fds[2])
{
    /* If the bench dies, so does its server: no orphan holding ports and
     * its caller's pipes. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "pushlab-bench: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Reads one line from fd, waiting at most 10 s in all. */
static void read_line(int fd, char *line, size_t len)
{
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (n < len - 1 && poll(&p, 1, 10000) > 0) {
        if (read(fd, line + n, 1) != 1 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
}

/* Runs argv (argv[0] the binary) with its stdout on a pipe we keep, and
 * reads its first line. Returns 0 or -errno. */
static int spawn(pl_blaunch *s, const char *const *argv, char *line, size_t len)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -errno;
    s->pid = fork();
    if (s->pid < 0) {
        close(fds[0]), close(fds[1]);
        return -errno;
    }
    if (s->pid == 0)
        child(argv, fds);
    close(fds[1]);
    s->stdout_fd = fds[0];
    read_line(fds[0], line, len);
    return 0;
}

static int start_pushlab(pl_blaunch *s, const pl_bench_opts *o)
{
    char bin[4096], conns[32], beat[16], line[512];
    const char *argv[12] = {bin, "--http-port", "0", "--ws-port", "0"};
    int n = 5, rc;
    if (o->server_bin)
        snprintf(bin, sizeof bin, "%s", o->server_bin);
    else if (find_server(bin, sizeof bin) != 0) {
        fprintf(stderr, "pushlab-bench: no pushlab-server next to the bench; use --server-bin "
                        "or --url\n");
        return -ENOENT;
    }
    snprintf(conns, sizeof conns, "%d", o->subscribers + o->rooms + 256);
    snprintf(beat, sizeof beat, "%d", o->heartbeat_s);
    if (o->subscribers + o->rooms + 256 > 10000) {
        argv[n++] = "--max-connections";
        argv[n++] = conns;
    }
    if (o->heartbeat_s > 0) {
        argv[n++] = "--heartbeat";
        argv[n++] = beat;
    }
    if ((rc = spawn(s, argv, line, sizeof line)) != 0)
        return rc;
    if (sscanf(line, "pushlab-server listening http=%127s ws=%127s", s->http, s->ws) == 2)
        return 0;
    fprintf(stderr, "pushlab-bench: %s did not print its listening line (got '%s')\n", bin, line);
    return -EIO;
}

/* A relay prints "... listening ws://HOST:PORT" first. */
static int start_relay(pl_blaunch *s, const pl_bench_opts *o)
{
    char line[512];
    const char *argv[] = {o->relay_bin, NULL};
    int rc = spawn(s, argv, line, sizeof line);
    if (rc)
        return rc;
    const char *at = strstr(line, "listening ws");
    if (at && sscanf(at + 10, "%127s", s->ws) == 1)
        return 0;
    fprintf(stderr, "pushlab-bench: %s did not print '... listening ws://HOST:PORT' (got '%s')\n",
            o->relay_bin, line);
    return -EIO;
}

/* The server block: --nchan-conf's file, else the shipped one. */
static char *nchan_site(const pl_bench_opts *o)
{
    if (!o->nchan_conf)
        return strdup(pl_nchan_conf);
    FILE *f = fopen(o->nchan_conf, "r");
    char *text = NULL;
    size_t cap = 0;
    if (!f || getdelim(&text, &cap, '\0', f) < 0) {
        fprintf(stderr, "pushlab-bench: cannot read --nchan-conf %s: %s\n", o->nchan_conf,
                strerror(errno));
        free(text);
        text = NULL;
    }
    if (f)
        fclose(f);
    return text;
}

static int start_nchan(pl_blaunch *s, const pl_bench_opts *o)
{
    pl_bnginx_cfg cfg = {.bin = o->nginx_bin,
                         .module = o->nchan_module,
                         .connections = o->subscribers + o->rooms + 256,
                         .workers = o->nginx_workers};
    if (!pl_bnginx_available(&cfg)) {
        fprintf(stderr,
                "pushlab-bench: --target nchan needs --url, or nginx (%s) with the nchan module "
                "(%s; Debian: apt install nginx libnginx-mod-nchan)\n",
                o->nginx_bin ? o->nginx_bin : PL_NGINX_BIN,
                o->nchan_module ? o->nchan_module : PL_NCHAN_MODULE);
        return -ENOENT;
    }
    char *site = nchan_site(o);
    if (!site)
        return -EIO;
    cfg.site = site;
    int rc = pl_bnginx_start(&s->ngx, &cfg);
    free(site);
    if (rc == 0) {
        snprintf(s->http, sizeof s->http, "%s", s->ngx.http);
        snprintf(s->ws, sizeof s->ws, "%s", s->ngx.ws);
    }
    return rc;
}

int pl_blaunch_start(pl_blaunch *s, pl_bench_target kind, const pl_bench_opts *o)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->stdout_fd = -1;
    int rc = kind == PL_TARGET_PUSHLAB ? start_pushlab(s, o)
             : kind == PL_TARGET_NCHAN ? start_nchan(s, o)
                                       : start_relay(s, o);
    if (rc)
        pl_blaunch_stop(s);
    return rc;
}

void pl_blaunch_stop(pl_blaunch *s)
{
    pl_bnginx_stop(&s->ngx);
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int i = 0;
        while (i++ < 500 && waitpid(s->pid, NULL, WNOHANG) != s->pid)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        if (i > 500) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
    }
    if (s->stdout_fd >= 0)
        close(s->stdout_fd);
    s->stdout_fd = -1;
    s->pid = 0;
}

void pl_blaunch_addr(const pl_blaunch *s, const pl_bench_opts *o, pl_btarget_addr *a)
{
    a->kind = s->kind;
    a->url = s->kind == PL_TARGET_WS_BROADCAST ? s->ws : s->http;
    a->ws_url = s->ws;
    a->nchan = &o->nchan;
    a->pid = s->kind == PL_TARGET_NCHAN ? s->ngx.pid : s->pid;
}

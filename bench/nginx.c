/* Starting and stopping our own nginx; see nginx.h. The main context is
 * written here around the server block: paths under the prefix, the
 * module, and enough connections and descriptors for the run. As root,
 * nginx runs its workers as nobody, so the prefix is world-readable. */
#include "nginx.h"
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "procstat.h"

static const char *bin_of(const pl_bnginx_cfg *c) { return c->bin ? c->bin : PL_NGINX_BIN; }

static const char *module_of(const pl_bnginx_cfg *c)
{
    return c->module ? c->module : PL_NCHAN_MODULE;
}

bool pl_bnginx_available(const pl_bnginx_cfg *cfg)
{
    const char *m = module_of(cfg);
    return access(bin_of(cfg), X_OK) == 0 && (strcmp(m, "none") == 0 || access(m, R_OK) == 0);
}

int pl_bnginx_site(const char *site, int port, char *out, size_t len)
{
    const char *at = strstr(site, PL_NCHAN_LISTEN);
    if (!at)
        return -EINVAL;
    int n = snprintf(out, len, "%.*slisten 127.0.0.1:%d;%s", (int)(at - site), site, port,
                     at + strlen(PL_NCHAN_LISTEN));
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* A port nothing listens on now (the kernel's pick for a bound socket). */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int write_conf(const pl_bnginx *n, const pl_bnginx_cfg *cfg, const char *site)
{
    char path[320], workers[16], load[512] = "";
    snprintf(path, sizeof path, "%s/nginx.conf", n->prefix);
    snprintf(workers, sizeof workers, "%d", cfg->workers);
    if (strcmp(module_of(cfg), "none") != 0)
        snprintf(load, sizeof load, "load_module %s;\n", module_of(cfg));
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    const char *p = n->prefix;
    fprintf(f,
            "# Written by pushlab-bench for one run, removed when it ends.\n"
            "%sworker_processes %s;\nworker_rlimit_nofile %d;\npid %s/nginx.pid;\n"
            "error_log %s/error.log warn;\nevents { worker_connections %d; }\nhttp {\n"
            "    access_log off;\n    client_body_temp_path %s/body;\n"
            "    proxy_temp_path %s/proxy;\n    fastcgi_temp_path %s/fastcgi;\n"
            "    uwsgi_temp_path %s/uwsgi;\n    scgi_temp_path %s/scgi;\n%s\n}\n",
            load, cfg->workers > 0 ? workers : "auto", 2 * cfg->connections + 64, p, p,
            cfg->connections, p, p, p, p, p, site);
    return fclose(f) == 0 ? 0 : -EIO;
}

/* The last lines of the error log on stderr: why nginx did not start. */
static void show_log(const pl_bnginx *n)
{
    char path[320], buf[2048];
    snprintf(path, sizeof path, "%s/error.log", n->prefix);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = '\0';
    fclose(f);
    fprintf(stderr, "pushlab-bench: nginx's error log:\n%s", buf);
}

static void launch(const pl_bnginx *n, const pl_bnginx_cfg *cfg)
{
    char conf[320], log[320];
    snprintf(conf, sizeof conf, "%s/nginx.conf", n->prefix);
    snprintf(log, sizeof log, "%s/error.log", n->prefix);
    /* If the bench dies, its nginx goes with it (a Ctrl-C reaches both). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(bin_of(cfg), bin_of(cfg), "-p", n->prefix, "-e", log, "-c", conf, "-g", "daemon off;",
          (char *)NULL);
    fprintf(stderr, "pushlab-bench: cannot run %s: %s\n", bin_of(cfg), strerror(errno));
    _exit(127);
}

static bool accepts(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Waits until `port` accepts or nginx exits. 0, -ECHILD (it exited) or
 * -ETIMEDOUT. */
static int wait_listening(pl_bnginx *n, int port)
{
    for (int i = 0; i < 500; i++) {
        if (waitpid(n->pid, NULL, WNOHANG) == n->pid) {
            n->pid = 0;
            return -ECHILD;
        }
        if (accepts(port))
            return 0;
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    return -ETIMEDOUT;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_prefix(pl_bnginx *n)
{
    if (n->prefix[0])
        nftw(n->prefix, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    n->prefix[0] = '\0';
}

/* One try on one port: 0, -ECHILD (nginx exited: maybe the port was
 * taken meanwhile) or another negative code. */
static int try_port(pl_bnginx *n, const pl_bnginx_cfg *cfg, int port)
{
    size_t len = strlen(cfg->site) + 64;
    char *site = malloc(len);
    int rc = site ? pl_bnginx_site(cfg->site, port, site, len) : -ENOMEM;
    if (rc == -EINVAL)
        fprintf(stderr, "pushlab-bench: the nchan server block has no '%s' line to replace\n",
                PL_NCHAN_LISTEN);
    if (rc == 0)
        rc = write_conf(n, cfg, site);
    free(site);
    if (rc)
        return rc;
    if ((n->pid = fork()) < 0)
        return -errno;
    if (n->pid == 0)
        launch(n, cfg);
    if ((rc = wait_listening(n, port)) != 0)
        return rc;
    snprintf(n->http, sizeof n->http, "http://127.0.0.1:%d", port);
    snprintf(n->ws, sizeof n->ws, "ws://127.0.0.1:%d", port);
    return 0;
}

int pl_bnginx_start(pl_bnginx *n, const pl_bnginx_cfg *cfg)
{
    const char *tmp = getenv("TMPDIR");
    int rc = -EIO;
    memset(n, 0, sizeof *n);
    snprintf(n->prefix, sizeof n->prefix, "%s/pushlab-nchan-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(n->prefix)) {
        rc = -errno;
        fprintf(stderr, "pushlab-bench: cannot make %s: %s\n", n->prefix, strerror(errno));
        n->prefix[0] = '\0';
        return rc;
    }
    chmod(n->prefix, 0755); /* the workers run as nobody when we are root */
    for (int i = 0; i < 3; i++) {
        int port = free_port();
        if (port < 0)
            break;
        if ((rc = try_port(n, cfg, port)) != -ECHILD)
            break;
    }
    if (rc == 0)
        return 0;
    fprintf(stderr, "pushlab-bench: nginx (%s) did not start: %s\n", bin_of(cfg),
            rc == -ECHILD ? "it exited" : strerror(-rc));
    show_log(n);
    pl_bnginx_stop(n);
    return rc;
}

void pl_bnginx_stop(pl_bnginx *n)
{
    if (n->pid > 0) {
        /* Its workers, in case the master has to be killed: they would
         * outlive it. */
        pid_t kids[64];
        int nk = pl_bproc_children(n->pid, kids, 64), i = 0;
        kill(n->pid, SIGTERM);
        while (i++ < 500 && waitpid(n->pid, NULL, WNOHANG) != n->pid)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        if (i > 500) {
            kill(n->pid, SIGKILL);
            waitpid(n->pid, NULL, 0);
            for (int k = 0; k < nk; k++)
                kill(kids[k], SIGKILL);
        }
        n->pid = 0;
    }
    remove_prefix(n);
}

/* Starting and querying the target; see target.h. The stats
 * call is a blocking libcurl easy request because it runs only between
 * measurement windows, never inside one. */
#include "target.h"
#include "tls.h"
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
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

int pl_btarget_find(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -ENOENT;
    self[n] = '\0';
    const char *dir = dirname(self);
    /* Installed, the server sits beside the bench; in a build tree, in
     * its own folder. */
    snprintf(out, len, "%s/pushlab-server", dir);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, len, "%s/../server/pushlab-server", dir);
    return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

static void child(const char *bin, const char *const *argv, int fds[2])
{
    /* If the bench dies, so does its server: no orphan holding ports and
     * its caller's pipes. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv(bin, (char *const *)argv);
    fprintf(stderr, "pushlab-bench: cannot run %s: %s\n", bin, strerror(errno));
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

int pl_btarget_start(pl_btarget *s, const char *bin, const char *const *extra)
{
    const char *argv[32] = {bin, "--http-port", "0", "--ws-port", "0"};
    int argc = 5, fds[2];
    for (; extra && *extra && argc < 31; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    memset(s, 0, sizeof *s);
    if (pipe(fds) != 0)
        return -errno;
    s->pid = fork();
    if (s->pid < 0) {
        close(fds[0]), close(fds[1]);
        return -errno;
    }
    if (s->pid == 0)
        child(bin, argv, fds);
    close(fds[1]);
    s->stdout_fd = fds[0];
    char line[512];
    read_line(fds[0], line, sizeof line);
    if (sscanf(line, "pushlab-server listening http=%127s ws=%127s", s->http, s->ws) == 2)
        return 0;
    fprintf(stderr, "pushlab-bench: %s did not print its listening line (got '%s')\n", bin, line);
    pl_btarget_stop(s);
    return -EIO;
}

void pl_btarget_stop(pl_btarget *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
            goto done;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
done:
    close(s->stdout_fd);
    s->pid = 0;
}

typedef struct body {
    char buf[16384];
    size_t len;
} body;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    body *b = ud;
    size_t len = sz * n;
    if (len > sizeof b->buf - 1 - b->len)
        return 0; /* larger than any stats answer: refuse */
    memcpy(b->buf + b->len, p, len);
    b->len += len;
    return len;
}

static int parse_stats(const char *text, pl_btarget_stats *out)
{
    json_t *j = json_loads(text, 0, NULL);
    double user, sys;
    json_int_t rss;
    int rc = json_unpack(j, "{s:F, s:F, s:I}", "cpu_user_s", &user, "cpu_sys_s", &sys, "rss_bytes",
                         &rss);
    for (int t = 0; rc == 0 && t < PL_BENCH_TRANSPORTS; t++) {
        json_int_t b;
        rc = json_unpack(j, "{s:{s:{s:I}}}", "transports", pl_bench_transport_name(t), "bytes_out",
                         &b);
        out->bytes_out[t] = (uint64_t)b;
    }
    json_decref(j);
    if (rc != 0)
        return -EPROTO;
    out->cpu_s = user + sys;
    out->rss_bytes = (uint64_t)rss;
    return 0;
}

int pl_btarget_stats_get(const char *url, const pl_tls_opts *tls, pl_btarget_stats *out)
{
    char full[256];
    body *b = calloc(1, sizeof *b);
    CURL *c = curl_easy_init();
    int rc = -EIO;
    if (!b || !c)
        goto fail;
    snprintf(full, sizeof full, "%s/api/stats", url);
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    pl_btls_curl(c, tls);
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        goto fail;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    b->buf[b->len] = '\0';
    rc = status == 200 ? parse_stats(b->buf, out) : -EPROTO;
fail:
    if (c)
        curl_easy_cleanup(c);
    free(b);
    return rc;
}

int pl_btarget_stats_sum(const pl_btarget_addr *tg, const pl_tls_opts *tls, pl_btarget_stats *out)
{
    const char *urls[PL_BENCH_NODES_MAX + 1];
    int n = 0;
    urls[n++] = tg->url;
    for (int i = 1; i < tg->n_nodes; i++)
        urls[n++] = tg->node_url[i];
    if (tg->pub_url)
        urls[n++] = tg->pub_url;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen = seen || strcmp(urls[i], urls[j]) == 0;
        pl_btarget_stats one;
        int rc = seen ? 0 : pl_btarget_stats_get(urls[i], tls, &one);
        if (rc)
            return rc;
        if (seen)
            continue;
        out->cpu_s += one.cpu_s;
        out->rss_bytes += one.rss_bytes;
        for (int t = 0; t < PL_BENCH_TRANSPORTS; t++)
            out->bytes_out[t] += one.bytes_out[t];
    }
    return 0;
}

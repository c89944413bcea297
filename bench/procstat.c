/* A server's CPU and memory from /proc; see procstat.h. One pass over
 * /proc/[0-9]* finds every process's parent, then the tree under the pid
 * is summed. It runs only between measurement windows, never in one. */
#include "procstat.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct proc {
    pid_t pid, ppid;
    double cpu_s;
} proc;

int pl_bproc_parse_stat(const char *text, pid_t *ppid, double *cpu_s)
{
    /* "pid (comm) state ppid ...": comm may hold spaces and ')', so the
     * fields start after the last ')'. utime and stime are fields 14, 15. */
    const char *p = strrchr(text, ')');
    char state;
    long pp;
    unsigned long long ut, st;
    if (!p || sscanf(p + 1, " %c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state, &pp,
                     &ut, &st) != 4)
        return -EINVAL;
    long hz = sysconf(_SC_CLK_TCK);
    *ppid = (pid_t)pp;
    *cpu_s = (double)(ut + st) / (double)(hz > 0 ? hz : 100);
    return 0;
}

/* The whole of a small /proc file into buf. Returns its length or -errno. */
static int slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (int)n;
}

/* Every process with its parent and CPU. Returns how many, or -errno. */
static int scan(proc **out)
{
    DIR *d = opendir("/proc");
    size_t n = 0, cap = 256;
    proc *a = malloc(cap * sizeof *a);
    struct dirent *e;
    char path[300], text[1024];
    if (!d || !a) {
        if (d)
            closedir(d);
        free(a);
        return -ENOMEM;
    }
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        proc p = {.pid = (pid_t)atol(e->d_name)};
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (slurp(path, text, sizeof text) <= 0 || pl_bproc_parse_stat(text, &p.ppid, &p.cpu_s))
            continue; /* it ended meanwhile */
        if (n == cap) {
            proc *b = realloc(a, (cap *= 2) * sizeof *a);
            if (!b)
                break;
            a = b;
        }
        a[n++] = p;
    }
    closedir(d);
    *out = a;
    return (int)n;
}

/* The "<key>   N kB" figure of a /proc status-like file, in bytes. */
static int kb_field(pid_t pid, const char *file, const char *key, uint64_t *out)
{
    char path[64], text[4096];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int rc = slurp(path, text, sizeof text);
    if (rc < 0)
        return rc;
    const char *p = strstr(text, key);
    unsigned long long kb;
    if (!p || sscanf(p + strlen(key), " %llu", &kb) != 1)
        return -EINVAL;
    *out = kb * 1024;
    return 0;
}

/* Adds process `p` to *out. Its status file is anyone's to read; its
 * smaps_rollup only its owner's (or root's). */
static void add(const proc *p, pl_bproc_stats *out)
{
    uint64_t rss = 0, pss = 0;
    if (kb_field(p->pid, "status", "VmRSS:", &rss) != 0)
        return; /* it ended meanwhile */
    if (kb_field(p->pid, "smaps_rollup", "Pss:", &pss) != 0)
        out->pss_known = false;
    out->processes++;
    out->cpu_s += p->cpu_s;
    out->rss_bytes += rss;
    out->pss_bytes += pss;
}

/* Moves `pid` and its descendants to the front of a, in order found (a
 * parent before its children). Returns how many, 0 when pid is absent. */
static int tree(proc *a, int n, pid_t pid)
{
    int in = 0;
    for (int i = 0; i < n && !in; i++)
        if (a[i].pid == pid) {
            proc t = a[0];
            a[0] = a[i];
            a[i] = t;
            in = 1;
        }
    for (int head = 0; head < in; head++)
        for (int i = in; i < n; i++)
            if (a[i].ppid == a[head].pid) {
                proc t = a[in];
                a[in++] = a[i];
                a[i] = t;
            }
    return in;
}

int pl_bproc_sample(pid_t pid, pl_bproc_stats *out)
{
    proc *a = NULL;
    int n = scan(&a);
    memset(out, 0, sizeof *out);
    out->pss_known = true;
    if (n < 0)
        return n;
    int in = tree(a, n, pid);
    for (int i = 0; i < in; i++)
        add(&a[i], out);
    free(a);
    return in ? 0 : -ESRCH;
}

int pl_bproc_children(pid_t pid, pid_t *out, int max)
{
    proc *a = NULL;
    int n = scan(&a);
    if (n < 0)
        return n;
    int in = tree(a, n, pid), k = 0;
    for (int i = 1; i < in && k < max; i++)
        out[k++] = a[i].pid;
    free(a);
    return k;
}

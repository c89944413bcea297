/* Static files from --web-root for the demo page. Only plain names are
 * served ([A-Za-z0-9._-] segments, no dot-files, no ".."), so a request can
 * never leave the web root. */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "reply.h"
#include "route.h"
#include "server.h"

#ifndef PL_WEB_ROOT_INSTALLED
#define PL_WEB_ROOT_INSTALLED "/usr/local/share/pushlab/web"
#endif
#ifndef PL_WEB_ROOT_REL
#define PL_WEB_ROOT_REL "../share/pushlab/web"
#endif
#ifndef PL_WEB_ROOT_SOURCE
#define PL_WEB_ROOT_SOURCE "web"
#endif

#define ROOT_MAX (2 * PATH_MAX)

static bool has_index(const char *dir)
{
    char path[ROOT_MAX + 16];
    snprintf(path, sizeof path, "%s/index.html", dir);
    return access(path, R_OK) == 0;
}

const char *pl_static_default_root(void)
{
    static char beside[ROOT_MAX];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(beside, sizeof beside, "%s/%s", dirname(exe), PL_WEB_ROOT_REL);
        if (has_index(beside))
            return beside;
    }
    if (has_index(PL_WEB_ROOT_INSTALLED))
        return PL_WEB_ROOT_INSTALLED;
    /* Not installed: a binary run from its build directory serves the
     * source tree's page. */
    if (has_index(PL_WEB_ROOT_SOURCE))
        return PL_WEB_ROOT_SOURCE;
    return PL_WEB_ROOT_INSTALLED;
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* A folder asked for without its slash (/slides): send the browser to
 * /slides/, so that the page's relative links resolve inside it. */
static enum MHD_Result redirect_to_folder(pl_req *q, const char *url)
{
    char where[256];
    snprintf(where, sizeof where, "%s/", url);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, where);
    return pl_reply_queue(q, MHD_HTTP_MOVED_PERMANENTLY, r);
}

static enum MHD_Result static_file(pl_req *q)
{
    const char *url = q->url;
    pl_err err;
    char path[512];
    struct stat st;
    if (!pl_route_static_path_ok(url)) {
        pl_err_set(&err, 404, "no such file");
        return pl_reply_error(q, &err);
    }
    /* A folder's page is its index.html: / and /slides/ alike. */
    size_t n = strlen(url);
    snprintf(path, sizeof path, "%s%s%s", q->srv->cfg.web_root, url,
             url[n - 1] == '/' ? "index.html" : "");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return redirect_to_folder(q, url);
    }
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        pl_err_set(&err, 404, "no such file");
        return pl_reply_error(q, &err);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    return pl_reply_queue(q, 200, r);
}

const pl_handler pl_static_handler = {.stats_ep = PL_SEP_OTHER, .start = static_file};

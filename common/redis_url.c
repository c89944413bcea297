/* The Redis backend's address: "redis://HOST[:PORT][/DB]" as --store
 * gives it, read into a pl_redis_config (declared in backend_redis.h).
 * Pure: touches only the config it is handed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "backend_redis.h"

int pl_redis_parse_url(const char *url, pl_redis_config *cfg)
{
    int port = 6379, db = 0, n = 0;
    if (strncmp(url, "redis://", 8) != 0)
        return -EINVAL;
    const char *p = url + 8;
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof cfg->host)
        return -EINVAL;
    const char *host = p;
    p += hl;
    if (*p == ':') {
        if (sscanf(p, ":%5d%n", &port, &n) != 1 || port < 1 || port > 65535)
            return -EINVAL;
        p += n;
    }
    if (p[0] == '/' && p[1]) {
        if (sscanf(p, "/%4d%n", &db, &n) != 1 || db < 0)
            return -EINVAL;
        p += n;
    } else if (p[0] == '/') {
        p++;
    }
    if (*p)
        return -EINVAL;
    snprintf(cfg->host, sizeof cfg->host, "%.*s", (int)hl, host);
    cfg->port = port;
    cfg->db = db;
    return 0;
}

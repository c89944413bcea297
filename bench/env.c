/* Environment capture; see env.h. Versions come from the libraries
 * themselves at run time where they can tell, else from pkg-config at
 * build time (libmicrohttpd, which only the server links). */
#include "env.h"
#include <curl/curl.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef PL_MHD_VERSION
#define PL_MHD_VERSION "unknown"
#endif

/* The first "model name" of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon)
            continue;
        colon += strspn(colon + 1, " \t") + 1;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, len, "%s", colon);
        break;
    }
    fclose(f);
}

static json_t *libs(void)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "libcurl", curl_version_info(CURLVERSION_NOW)->version,
                     "libwebsockets", lws_get_library_version(), "jansson", jansson_version_str(),
                     "libmicrohttpd", PL_MHD_VERSION);
}

json_t *pl_bench_env(void)
{
    char model[256], when[32];
    struct utsname u;
    if (uname(&u) != 0) {
        snprintf(u.release, sizeof u.release, "unknown");
        snprintf(u.nodename, sizeof u.nodename, "unknown");
    }
    cpu_model(model, sizeof model);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "version", PUSHLAB_VERSION, "cpu_model",
                     model, "cpus", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "kernel", u.release,
                     "host", u.nodename, "time_utc", when, "libs", libs());
}

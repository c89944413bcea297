/* The bench's own libcurl handles (publisher, /api/stats) take the same
 * TLS options as the client library's loop (--cacert, --insecure). */
#ifndef PL_BENCH_TLS_H
#define PL_BENCH_TLS_H
#include <curl/curl.h>
#include "client.h"

static inline void pl_btls_curl(CURL *e, const pl_tls_opts *t)
{
    if (!t)
        return;
    if (t->cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, t->cacert);
    if (t->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

#endif

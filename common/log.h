/* Leveled logging to stderr, so stdout stays free for machine-readable
 * output such as the server's listening line. */
#ifndef PL_LOG_H
#define PL_LOG_H

enum pl_log_level { PL_LOG_ERROR, PL_LOG_WARN, PL_LOG_INFO, PL_LOG_DEBUG };

/* Messages above `level` are dropped. Default: PL_LOG_WARN. */
void pl_log_set_level(enum pl_log_level level);
/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int pl_log_parse_level(const char *name, enum pl_log_level *out);
void pl_log(enum pl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pl_error(...) pl_log(PL_LOG_ERROR, __VA_ARGS__)
#define pl_warn(...)  pl_log(PL_LOG_WARN, __VA_ARGS__)
#define pl_info(...)  pl_log(PL_LOG_INFO, __VA_ARGS__)
#define pl_debug(...) pl_log(PL_LOG_DEBUG, __VA_ARGS__)

#endif

/* What every backend's callers share (backend.h): the protocol's error for
 * a store call that failed. */
#include "backend.h"

void pl_backend_err(pl_err *err, int rc)
{
    if (pl_backend_unavailable(rc)) {
        pl_err_set(err, 503, "the shared store did not answer in time: try again");
        err->code = "store_unavailable";
    } else {
        pl_err_set(err, 503, rc == -ENOSPC ? "room limit reached" : "out of memory");
    }
}

/* The cursor rule; see cursor.h. A room's ids are 1, 2, 3, ... with no
 * holes, so the next id tells everything: the one expected, an old one
 * again, or a jump over ids that were trimmed or never reached us. */
#include "cursor.h"

pl_cursor_step pl_cursor_next(uint64_t cursor, pl_cursor_seen seen, uint64_t id)
{
    pl_cursor_step st = {.verdict = PL_CURSOR_ACCEPT, .cursor = cursor};
    if (seen == PL_CURSOR_LAST_ID) {
        /* A room never shrinks: ending below the cursor means a new room,
         * a restarted server, whose ids start again at 1. */
        if (id < cursor) {
            st.verdict = PL_CURSOR_RESTART;
            st.cursor = 0;
        }
        return st;
    }
    if (id <= cursor) {
        st.verdict = PL_CURSOR_DUPLICATE;
        return st;
    }
    if (id > cursor + 1) {
        st.verdict = PL_CURSOR_GAP;
        st.first = cursor + 1;
        st.last = id - 1;
    }
    st.cursor = id;
    return st;
}

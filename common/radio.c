/* RRC state machines for LTE and 3G (see radio.h for the model and its
 * sources). Each model keeps only its current state and running sums, so a
 * device's timeline can be fed one packet at a time and never stored. */
#include "radio.h"
#include <errno.h>
#include <math.h>
#include <string.h>

const pl_radio_lte_params pl_radio_lte_default = {
    .promo_s = 0.26,
    .promo_w = 1.21,
    .cr_tail_s = 0.1,
    .drx_short_s = 0.02,
    .drx_long_s = 10.0,
    .drx_short_period_s = 0.02,
    .drx_long_period_s = 0.04,
    .drx_ping_s = 0.002,
    .drx_ping_w = 1.68,
    .drx_w = 1.06,
    .idle_ping_s = 0.043,
    .idle_ping_period_s = 1.28,
    .idle_ping_w = 0.594,
    .idle_w = 0.0,
    .beta_w = 1.2,
    .alpha_up_w = 0.43839,
    .alpha_down_w = 0.05197,
};

const pl_radio_3g_params pl_radio_3g_default = {
    .promo_idle_s = 2.0,
    .promo_idle_w = 0.53,
    .promo_fach_s = 1.5,
    .promo_fach_w = 0.55,
    .dch_timer_s = 5.0,
    .fach_timer_s = 12.0,
    .dch_w = 0.7,
    .fach_w = 0.35,
    .idle_w = 0.0,
    .dch_reset_bytes = 320,
    .dch_reset_window_s = 0.3,
    .rlc_up_bytes = 543,
    .rlc_down_bytes = 475,
    .rlc_up_drain_ms = {20.0, 1.6, 0.0014},
    .rlc_down_drain_ms = {10.0, 0.1, 0.0},
};

/* ---- LTE ---- */

static double lte_tail_s(const pl_radio_lte_params *p)
{
    return p->cr_tail_s + p->drx_short_s + p->drx_long_s;
}

/* Mean power of a DRX phase: one ping per period, baseline between. */
static double drx_w(const pl_radio_lte_params *p, double period)
{
    return (p->drx_ping_s * p->drx_ping_w + (period - p->drx_ping_s) * p->drx_w) / period;
}

static void lte_add(pl_radio_lte *m, enum pl_lte_state s, double secs, double joules)
{
    m->state_s[s] += secs;
    m->joules += joules;
}

/* Idle from a to b: a ping at the start of every period, idle power after. */
static void lte_idle(pl_radio_lte *m, double a, double b)
{
    const pl_radio_lte_params *p = m->p;
    double d = b - a;
    if (d <= 0)
        return;
    double periods = floor(d / p->idle_ping_period_s);
    double rest = d - periods * p->idle_ping_period_s;
    double per_period =
        p->idle_ping_s * p->idle_ping_w + (p->idle_ping_period_s - p->idle_ping_s) * p->idle_w;
    double ping = fmin(rest, p->idle_ping_s);
    lte_add(m, PL_LTE_IDLE, d,
            periods * per_period + ping * p->idle_ping_w + (rest - ping) * p->idle_w);
}

/* The tail after a burst ending at `last`, cut at `to`. */
static void lte_tail(pl_radio_lte *m, double last, double to)
{
    const pl_radio_lte_params *p = m->p;
    struct {
        enum pl_lte_state s;
        double len, w;
    } phase[3] = {
        {PL_LTE_CR_TAIL, p->cr_tail_s, p->beta_w},
        {PL_LTE_DRX_SHORT, p->drx_short_s, drx_w(p, p->drx_short_period_s)},
        {PL_LTE_DRX_LONG, p->drx_long_s, drx_w(p, p->drx_long_period_s)},
    };
    double at = last;
    for (int i = 0; i < 3 && at < to; i++) {
        double d = fmin(phase[i].len, to - at);
        lte_add(m, phase[i].s, d, d * phase[i].w);
        at += d;
    }
}

/* A packet at t finds the radio idle since idle_from: idle, then a
 * promotion that ends at t. The first one may start before the window, which
 * then grows to hold it. */
static void lte_promote(pl_radio_lte *m, double t)
{
    double ps = t - m->p->promo_s;
    if (!m->has_packet && ps < m->start)
        m->start = m->idle_from = ps;
    ps = fmax(ps, m->idle_from);
    lte_idle(m, m->idle_from, ps);
    lte_add(m, PL_LTE_PROMOTION, t - ps, (t - ps) * m->p->promo_w);
    m->promotions++;
}

static void lte_burst_end(pl_radio_lte *m)
{
    double d = m->last - m->burst_start;
    lte_add(m, PL_LTE_CONTINUOUS, d, d * m->p->beta_w);
}

void pl_radio_lte_init(pl_radio_lte *m, const pl_radio_lte_params *p, double start)
{
    memset(m, 0, sizeof *m);
    m->p = p;
    m->start = m->idle_from = m->burst_start = m->last = start;
}

int pl_radio_lte_packet(pl_radio_lte *m, double t, uint32_t bytes, enum pl_radio_dir dir)
{
    if (!(t >= m->last))
        return -EINVAL;
    if (!m->has_packet) {
        lte_promote(m, t);
        m->burst_start = t;
    } else if (t - m->last > m->p->cr_tail_s) {
        double tail_end = m->last + lte_tail_s(m->p);
        lte_burst_end(m);
        lte_tail(m, m->last, fmin(t, tail_end));
        if (t > tail_end) {
            m->idle_from = tail_end;
            lte_promote(m, t);
        }
        m->burst_start = t;
    }
    double mbit = bytes * 8.0 / 1e6;
    m->joules += mbit * (dir == PL_RADIO_UP ? m->p->alpha_up_w : m->p->alpha_down_w);
    m->has_packet = 1;
    m->last = t;
    return 0;
}

static void fill_result(pl_radio_result *out, const double *state_s, size_t n, double duration,
                        double joules, double idle_s)
{
    memset(out, 0, sizeof *out);
    memcpy(out->state_s, state_s, n * sizeof *state_s);
    out->duration_s = duration;
    out->joules = joules;
    out->avg_mw = duration > 0 ? joules / duration * 1000.0 : 0;
    out->connected_share = duration > 0 ? 1.0 - idle_s / duration : 0;
}

int pl_radio_lte_result(const pl_radio_lte *m, double end, pl_radio_result *out)
{
    if (!(end >= m->last))
        return -EINVAL;
    pl_radio_lte c = *m;
    if (c.has_packet) {
        double tail_end = c.last + lte_tail_s(c.p);
        lte_burst_end(&c);
        lte_tail(&c, c.last, fmin(end, tail_end));
        if (end > tail_end)
            lte_idle(&c, tail_end, end);
    } else {
        lte_idle(&c, c.idle_from, end);
    }
    fill_result(out, c.state_s, PL_LTE_NSTATES, end - c.start, c.joules, c.state_s[PL_LTE_IDLE]);
    out->promotions = c.promotions;
    return 0;
}

/* ---- 3G ---- */

static double g3_power(const pl_radio_3g_params *p, enum pl_3g_state s)
{
    switch (s) {
    case PL_3G_PROMO_IDLE: return p->promo_idle_w;
    case PL_3G_PROMO_FACH: return p->promo_fach_w;
    case PL_3G_DCH: return p->dch_w;
    case PL_3G_FACH: return p->fach_w;
    default: return p->idle_w;
    }
}

/* Ends the current state at `at` and enters `next` there. */
static void g3_enter(pl_radio_3g *m, double at, enum pl_3g_state next)
{
    double d = at - m->seg_start;
    m->state_s[m->state] += d;
    m->joules += d * g3_power(m->p, m->state);
    m->state = next;
    m->seg_start = at;
}

static void queues_clear(struct pl_radio_queue q[2])
{
    q[0] = (struct pl_radio_queue){0, -INFINITY};
    q[1] = q[0];
}

static void g3_enter_dch(pl_radio_3g *m, double at)
{
    g3_enter(m, at, PL_3G_DCH);
    m->dch_reset = at;
    queues_clear(m->dch_q);
}

/* Runs the timers up to t: promotion done, DCH and FACH inactivity. */
static void g3_advance(pl_radio_3g *m, double t)
{
    for (;;) {
        if ((m->state == PL_3G_PROMO_IDLE || m->state == PL_3G_PROMO_FACH) && t >= m->promo_end) {
            g3_enter_dch(m, m->promo_end);
        } else if (m->state == PL_3G_DCH && t > m->dch_reset + m->p->dch_timer_s) {
            m->fach_last = m->dch_reset + m->p->dch_timer_s;
            g3_enter(m, m->fach_last, PL_3G_FACH);
            queues_clear(m->fach_q);
        } else if (m->state == PL_3G_FACH && t > m->fach_last + m->p->fach_timer_s) {
            g3_enter(m, m->fach_last + m->p->fach_timer_s, PL_3G_IDLE);
        } else {
            return;
        }
    }
}

/* In DCH: does this packet reset the inactivity timer? Only when one
 * direction has carried enough bytes in packets close together. */
static int dch_resets(pl_radio_3g *m, double t, uint32_t bytes, enum pl_radio_dir dir)
{
    const pl_radio_3g_params *p = m->p;
    struct pl_radio_queue *q = &m->dch_q[dir], *o = &m->dch_q[!dir];
    q->bytes = t > q->t + p->dch_reset_window_s ? bytes : q->bytes + bytes;
    q->t = t;
    return q->bytes >= p->dch_reset_bytes ||
           (t <= o->t + p->dch_reset_window_s && o->bytes >= p->dch_reset_bytes);
}

/* On FACH: does this packet overflow its direction's RLC buffer? */
static int fach_overflows(pl_radio_3g *m, double t, uint32_t bytes, enum pl_radio_dir dir)
{
    const pl_radio_3g_params *p = m->p;
    const double *c = dir == PL_RADIO_UP ? p->rlc_up_drain_ms : p->rlc_down_drain_ms;
    struct pl_radio_queue *q = &m->fach_q[dir];
    double qb = q->bytes;
    double drain_s = (c[0] + c[1] * qb + c[2] * qb * qb) / 1000.0;
    if (t - q->t > drain_s)
        q->bytes = 0;
    q->bytes += bytes;
    q->t = t;
    return q->bytes > (dir == PL_RADIO_UP ? p->rlc_up_bytes : p->rlc_down_bytes);
}

/* A packet at t promotes to DCH from IDLE or FACH. Uplink: the promotion
 * starts now. Downlink: it ends now, starting no earlier than the state
 * it leaves or the last packet (the first may grow the window). */
static void g3_promote(pl_radio_3g *m, double t, uint32_t bytes, enum pl_radio_dir dir)
{
    int from_idle = m->state == PL_3G_IDLE;
    enum pl_3g_state promo = from_idle ? PL_3G_PROMO_IDLE : PL_3G_PROMO_FACH;
    double len = from_idle ? m->p->promo_idle_s : m->p->promo_fach_s;
    m->promotions++;
    m->fach_promotions += !from_idle;
    if (dir == PL_RADIO_UP) {
        g3_enter(m, t, promo);
        m->promo_end = t + len;
        return;
    }
    double ps = t - len;
    if (!m->has_packet && ps < m->start)
        m->start = m->seg_start = ps;
    ps = fmax(ps, m->seg_start);
    if (m->has_packet)
        ps = fmax(ps, m->last);
    g3_enter(m, ps, promo);
    g3_enter_dch(m, t);
    (void)dch_resets(m, t, bytes, dir); /* DCH carried this packet */
}

void pl_radio_3g_init(pl_radio_3g *m, const pl_radio_3g_params *p, double start)
{
    memset(m, 0, sizeof *m);
    m->p = p;
    m->state = PL_3G_IDLE;
    m->start = m->seg_start = m->last = start;
}

int pl_radio_3g_packet(pl_radio_3g *m, double t, uint32_t bytes, enum pl_radio_dir dir)
{
    if (!(t >= m->last))
        return -EINVAL;
    g3_advance(m, t);
    switch (m->state) {
    case PL_3G_IDLE: g3_promote(m, t, bytes, dir); break;
    case PL_3G_DCH:
        if (dch_resets(m, t, bytes, dir))
            m->dch_reset = t;
        break;
    case PL_3G_FACH:
        m->fach_last = t;
        if (fach_overflows(m, t, bytes, dir))
            g3_promote(m, t, bytes, dir);
        break;
    default: break; /* mid-promotion: carried when DCH is up */
    }
    m->has_packet = 1;
    m->last = t;
    return 0;
}

int pl_radio_3g_result(const pl_radio_3g *m, double end, pl_radio_result *out)
{
    if (!(end >= m->last))
        return -EINVAL;
    pl_radio_3g c = *m;
    g3_advance(&c, end);
    g3_enter(&c, end, c.state);
    double d = end - c.start;
    fill_result(out, c.state_s, PL_3G_NSTATES, d, c.joules, c.state_s[PL_3G_IDLE]);
    out->promotions = c.promotions;
    out->fach_promotions = c.fach_promotions;
    out->dch_share = d > 0 ? c.state_s[PL_3G_DCH] / d : 0;
    out->fach_share = d > 0 ? c.state_s[PL_3G_FACH] / d : 0;
    return 0;
}

/* ---- both ---- */

void pl_radio_device_init(pl_radio_device *d, double start)
{
    pl_radio_lte_init(&d->lte, &pl_radio_lte_default, start);
    pl_radio_3g_init(&d->g3, &pl_radio_3g_default, start);
}

int pl_radio_device_packet(pl_radio_device *d, double t, uint32_t bytes, enum pl_radio_dir dir)
{
    if (!(t >= d->lte.last) || !(t >= d->g3.last))
        return -EINVAL;
    pl_radio_lte_packet(&d->lte, t, bytes, dir);
    pl_radio_3g_packet(&d->g3, t, bytes, dir);
    return 0;
}

/* The bench's radio sample; see radio_sample.h. A device's timeline is the change
 * in its subscription's kernel byte counts at each loop wake-up: timing is
 * what the RRC models turn into energy, and a wake-up is when the phone's
 * own app would see its socket ready. */
#include "radio_sample.h"
#include "clock.h"
#include "radio.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Samples closer than this add nothing to the models (their shortest
 * timer is LTE's 0.1 s) and would cost a getsockopt per device per
 * wake-up at high rates; a wake-up inside it is caught up by a timer. */
#define SAMPLE_GAP_US 20000

typedef struct device {
    pl_sub *sub; /* NULL: slot not used */
    uint64_t rx, tx;
    double start_s;
    pl_radio_device model;
} device;

struct pl_bradio {
    pl_loop *loop;
    device *dev;
    int n;
    int64_t epoch_us; /* the models' time origin */
    int64_t last_us;  /* last sample */
    pl_timer *catch_up;
};

static double secs(const pl_bradio *r, int64_t us) { return (double)(us - r->epoch_us) / 1e6; }

static void sample(pl_bradio *r, int64_t now_us)
{
    r->last_us = now_us;
    for (int i = 0; i < r->n; i++) {
        device *d = &r->dev[i];
        pl_sub_counters c;
        if (!d->sub)
            continue;
        pl_sub_counters_get(d->sub, &c);
        double t = secs(r, now_us);
        if (t < d->start_s) /* a wake-up from before it was opened */
            t = d->start_s;
        /* Up first: a request and its answer seen together went that way. */
        if (c.wire_tx > d->tx)
            pl_radio_device_packet(&d->model, t, (uint32_t)(c.wire_tx - d->tx), PL_RADIO_UP);
        if (c.wire_rx > d->rx)
            pl_radio_device_packet(&d->model, t, (uint32_t)(c.wire_rx - d->rx), PL_RADIO_DOWN);
        d->tx = c.wire_tx;
        d->rx = c.wire_rx;
    }
}

static void after_wake(pl_loop *l, void *ud)
{
    pl_bradio *r = ud;
    int64_t now = pl_loop_wake_us(l), since = now - r->last_us;
    if (since >= SAMPLE_GAP_US)
        sample(r, now);
    else if (!pl_timer_active(r->catch_up))
        pl_timer_start(r->catch_up, SAMPLE_GAP_US - since);
}

/* Its only job is the wake-up, whose hook then samples. */
static void catch_up_cb(pl_timer *t, void *ud) { (void)t, (void)ud; }

int pl_bradio_new(pl_loop *l, int n, pl_bradio **out)
{
    pl_bradio *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->loop = l;
    r->n = n;
    r->epoch_us = r->last_us = pl_clock_mono_us();
    if ((n > 0 && !(r->dev = calloc((size_t)n, sizeof *r->dev))) ||
        !(r->catch_up = pl_timer_new(l, catch_up_cb, r))) {
        free(r->dev);
        free(r);
        return -ENOMEM;
    }
    if (n > 0)
        pl_loop_after_wake(l, after_wake, r);
    *out = r;
    return 0;
}

void pl_bradio_watch(pl_bradio *r, int i, pl_sub *s)
{
    device *d = &r->dev[i];
    d->sub = s;
    d->rx = d->tx = 0;
    d->start_s = secs(r, pl_clock_mono_us());
    pl_radio_device_init(&d->model, d->start_s);
}

static double per_hour(double x, double secs) { return secs > 0 ? x / secs * 3600 : 0; }

/* The means of a result, in one order, to divide or weigh them alike. */
#define RADIO_FIGURES 11
static void figures(pl_bench_radio *r, double *all[RADIO_FIGURES])
{
    double *f[RADIO_FIGURES] = {&r->window_s,
                                &r->lte.connected_share,
                                &r->lte.avg_mw,
                                &r->lte.joules_per_hour,
                                &r->lte.promotions_per_hour,
                                &r->g3.connected_share,
                                &r->g3.dch_share,
                                &r->g3.fach_share,
                                &r->g3.avg_mw,
                                &r->g3.joules_per_hour,
                                &r->g3.promotions_per_hour};
    memcpy(all, f, sizeof f);
}

void pl_bradio_finish(pl_bradio *r, pl_bench_radio *out)
{
    int64_t now = pl_clock_mono_us();
    int n = 0;
    memset(out, 0, sizeof *out);
    sample(r, now);
    for (int i = 0; i < r->n; i++) {
        pl_radio_result l, g;
        device *d = &r->dev[i];
        if (!d->sub || pl_radio_lte_result(&d->model.lte, secs(r, now), &l) != 0 ||
            pl_radio_3g_result(&d->model.g3, secs(r, now), &g) != 0)
            continue;
        n++;
        out->window_s += l.duration_s;
        out->lte.connected_share += l.connected_share;
        out->lte.avg_mw += l.avg_mw;
        out->lte.joules_per_hour += per_hour(l.joules, l.duration_s);
        out->lte.promotions_per_hour += per_hour(l.promotions, l.duration_s);
        out->g3.connected_share += g.connected_share;
        out->g3.dch_share += g.dch_share;
        out->g3.fach_share += g.fach_share;
        out->g3.avg_mw += g.avg_mw;
        out->g3.joules_per_hour += per_hour(g.joules, g.duration_s);
        out->g3.promotions_per_hour += per_hour(g.promotions, g.duration_s);
    }
    if (!n)
        return;
    double *all[RADIO_FIGURES];
    figures(out, all);
    for (size_t k = 0; k < RADIO_FIGURES; k++)
        *all[k] /= n;
    out->devices = n;
}

void pl_bradio_merge(pl_bench_radio *dst, const pl_bench_radio *src)
{
    double *d[RADIO_FIGURES], *s[RADIO_FIGURES];
    int n = dst->devices + src->devices;
    if (!src->devices)
        return;
    figures(dst, d);
    figures((pl_bench_radio *)src, s);
    for (size_t k = 0; k < RADIO_FIGURES; k++)
        *d[k] = (*d[k] * dst->devices + *s[k] * src->devices) / n;
    dst->devices = n;
}

void pl_bradio_free(pl_bradio *r)
{
    if (!r)
        return;
    if (r->n > 0)
        pl_loop_after_wake(r->loop, NULL, NULL);
    pl_timer_free(r->catch_up);
    free(r->dev);
    free(r);
}

json_t *pl_bench_radio_json(const pl_bench_radio *r)
{
    if (!r->devices)
        return json_null();
    return json_pack(
        "{s:i, s:f, s:s, s:{s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f, s:f, s:f, s:f}}", "devices",
        r->devices, "window_s", r->window_s, "model",
        "ARO default profiles: LTE per Huang et al. MobiSys 2012, 3G per Qian et al. IMC 2010 "
        "(common/radio.h)",
        "lte", "connected_share", r->lte.connected_share, "avg_mw", r->lte.avg_mw,
        "joules_per_hour", r->lte.joules_per_hour, "promotions_per_hour",
        r->lte.promotions_per_hour, "3g", "connected_share", r->g3.connected_share, "dch_share",
        r->g3.dch_share, "fach_share", r->g3.fach_share, "avg_mw", r->g3.avg_mw, "joules_per_hour",
        r->g3.joules_per_hour, "promotions_per_hour", r->g3.promotions_per_hour);
}

void pl_bench_radio_csv_header(FILE *f)
{
    fprintf(f, ",radio_devices,lte_connected_share,lte_avg_mw,lte_joules_per_hour,"
               "lte_promotions_per_hour,3g_dch_share,3g_fach_share,3g_avg_mw,3g_joules_per_hour,"
               "3g_promotions_per_hour");
}

void pl_bench_radio_csv(FILE *f, const pl_bench_radio *r)
{
    if (!r->devices) {
        fprintf(f, ",0,,,,,,,,,");
        return;
    }
    fprintf(f, ",%d,%.4f,%.1f,%.1f,%.1f,%.4f,%.4f,%.1f,%.1f,%.1f", r->devices,
            r->lte.connected_share, r->lte.avg_mw, r->lte.joules_per_hour,
            r->lte.promotions_per_hour, r->g3.dch_share, r->g3.fach_share, r->g3.avg_mw,
            r->g3.joules_per_hour, r->g3.promotions_per_hour);
}

/* Specification of common/radio: synthetic timelines whose states and
 * joules are worked out by hand from the parameter tables of issue 13
 * (ARO's default LTE and 3G profiles), written out here as numbers. */
#include <errno.h>
#include <math.h>
#include "check.h"
#include "radio.h"

#define CHECK_NEAR(a, b, eps)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps))) {                                                           \
            printf("# %s:%d: %s == %.6f, expected %.6f\n", __FILE__, __LINE__, #a, a_, b_);        \
            check_failed_now = 1;                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define EPS 1e-6

/* LTE energy of the pieces, by hand from the table. */
#define J_PROMO     (0.26 * 1.21)                                      /* 0.3146 */
#define W_DRX_SHORT ((0.002 * 1.68 + 0.018 * 1.06) / 0.02)             /* 1.122 */
#define W_DRX_LONG  ((0.002 * 1.68 + 0.038 * 1.06) / 0.04)             /* 1.091 */
#define J_TAIL      (0.1 * 1.2 + 0.02 * W_DRX_SHORT + 10 * W_DRX_LONG) /* 11.05244 */
#define J_IDLE_PING (0.043 * 0.594)                                    /* per 1.28 s */
#define MBIT(bytes) ((bytes)*8.0 / 1e6)
#define J_DOWN(b)   (MBIT(b) * 0.05197)
#define J_UP(b)     (MBIT(b) * 0.43839)

static pl_radio_packet pk(double t, uint32_t bytes, enum pl_radio_dir dir)
{
    return (pl_radio_packet){t, bytes, dir};
}

/* A whole timeline through one model, from `start` to `end`. */
static int lte(const pl_radio_packet *p, size_t n, double start, double end, pl_radio_result *r)
{
    pl_radio_lte m;
    pl_radio_lte_init(&m, &pl_radio_lte_default, start);
    for (size_t i = 0; i < n; i++)
        if (pl_radio_lte_packet(&m, p[i].t, p[i].bytes, p[i].dir) < 0)
            return -EINVAL;
    return pl_radio_lte_result(&m, end, r);
}

static int g3(const pl_radio_packet *p, size_t n, double start, double end, pl_radio_result *r)
{
    pl_radio_3g m;
    pl_radio_3g_init(&m, &pl_radio_3g_default, start);
    for (size_t i = 0; i < n; i++)
        if (pl_radio_3g_packet(&m, p[i].t, p[i].bytes, p[i].dir) < 0)
            return -EINVAL;
    return pl_radio_3g_result(&m, end, r);
}

TEST(lte_one_packet_costs_a_promotion_and_a_full_tail)
{
    pl_radio_packet p[] = {pk(10, 100, PL_RADIO_DOWN)};
    pl_radio_result r;
    CHECK_EQ_INT(lte(p, 1, 0, 60, &r), 0);
    /* idle 0..9.74 (7 whole ping periods + 0.78 s holding one ping),
     * promotion 9.74..10, tail 10..20.12, idle 20.12..60 (31 periods
     * + 0.2 s holding one ping). */
    CHECK_NEAR(r.state_s[PL_LTE_PROMOTION], 0.26, EPS);
    CHECK_NEAR(r.state_s[PL_LTE_CR_TAIL], 0.1, EPS);
    CHECK_NEAR(r.state_s[PL_LTE_DRX_SHORT], 0.02, EPS);
    CHECK_NEAR(r.state_s[PL_LTE_DRX_LONG], 10, EPS);
    CHECK_NEAR(r.state_s[PL_LTE_CONTINUOUS], 0, EPS);
    CHECK_NEAR(r.state_s[PL_LTE_IDLE], 9.74 + 39.88, EPS);
    CHECK_NEAR(r.joules, J_PROMO + J_TAIL + (8 + 32) * J_IDLE_PING + J_DOWN(100), EPS);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.connected_share, 10.38 / 60, EPS);
    CHECK_NEAR(r.avg_mw, r.joules / 60 * 1000, EPS);
}

TEST(lte_one_wake_up_is_about_0_31_j_promotion_and_11_05_j_tail)
{
    /* The issue's own check. A window exactly holding promotion and tail. */
    pl_radio_packet p[] = {pk(0.26, 0, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(lte(p, 1, 0, 0.26 + 10.12, &r), 0);
    double promo_j = r.state_s[PL_LTE_PROMOTION] * 1.21;
    CHECK_NEAR(promo_j, 0.31, 0.005);
    CHECK_NEAR(r.joules - promo_j, 11.05, 0.005);
    CHECK_NEAR(r.connected_share, 1, EPS);
}

TEST(lte_first_promotion_before_the_window_grows_the_window)
{
    pl_radio_packet p[] = {pk(0.1, 0, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(lte(p, 1, 0, 20, &r), 0);
    CHECK_NEAR(r.state_s[PL_LTE_PROMOTION], 0.26, EPS);
    CHECK_NEAR(r.duration_s, 20.16, EPS);
}

TEST(lte_packets_every_3_s_keep_the_radio_connected)
{
    pl_radio_packet p[19];
    for (int i = 0; i < 19; i++)
        p[i] = pk(3 + 3 * i, 0, PL_RADIO_DOWN);
    pl_radio_result r;
    CHECK_EQ_INT(lte(p, 19, 0, 60, &r), 0);
    /* idle 0..2.74 (three pings started), one promotion, then 19 gaps of
     * 3 s each: 0.1 s CR tail, 0.02 s short DRX, 2.88 s long DRX. */
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.state_s[PL_LTE_IDLE], 2.74, EPS);
    CHECK_NEAR(r.state_s[PL_LTE_DRX_LONG], 19 * 2.88, EPS);
    double gap_j = 0.1 * 1.2 + 0.02 * W_DRX_SHORT + 2.88 * W_DRX_LONG;
    CHECK_NEAR(r.joules, 3 * J_IDLE_PING + J_PROMO + 19 * gap_j, EPS);
    CHECK_NEAR(gap_j / 3, 1.09, 0.01);
    CHECK(r.connected_share > 0.95);
}

TEST(lte_any_period_under_10_4_s_never_idles_at_about_1_09_w)
{
    /* Periods up to tail + promotion (10.38 s) leave no idle time between
     * packets; the steady state averages about 1.09 W. */
    double periods[] = {2, 3, 5, 10, 10.3};
    for (size_t k = 0; k < sizeof periods / sizeof *periods; k++) {
        double P = periods[k];
        pl_radio_lte m;
        pl_radio_lte_init(&m, &pl_radio_lte_default, 0);
        int n = (int)(600 / P);
        for (int i = 0; i < n; i++)
            CHECK_EQ_INT(pl_radio_lte_packet(&m, 0.26 + i * P, 0, PL_RADIO_DOWN), 0);
        pl_radio_result r;
        CHECK_EQ_INT(pl_radio_lte_result(&m, 0.26 + (n - 1) * P, &r), 0);
        CHECK_NEAR(r.state_s[PL_LTE_IDLE], 0, EPS);
        CHECK_NEAR(r.avg_mw, 1090, 10);
    }
}

TEST(lte_two_packets_11_s_apart_wake_the_radio_twice)
{
    pl_radio_packet p[] = {pk(10, 0, PL_RADIO_UP), pk(21, 0, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(lte(p, 2, 0, 40, &r), 0);
    /* idle 0..9.74, promo, tail 10..20.12, idle 20.12..20.74 (one ping),
     * promo 20.74..21, tail 21..31.12, idle 31.12..40 (6 periods + 1.2 s). */
    CHECK_EQ_INT(r.promotions, 2);
    CHECK_NEAR(r.state_s[PL_LTE_IDLE], 9.74 + 0.62 + 8.88, EPS);
    CHECK_NEAR(r.state_s[PL_LTE_PROMOTION], 0.52, EPS);
    CHECK_NEAR(r.joules, 2 * (J_PROMO + J_TAIL) + (8 + 1 + 7) * J_IDLE_PING, EPS);
}

TEST(lte_packets_10_s_apart_continue_in_the_tail_without_promotion)
{
    pl_radio_packet p[] = {pk(10, 0, PL_RADIO_UP), pk(20, 0, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(lte(p, 2, 0, 40, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.state_s[PL_LTE_DRX_LONG], 9.88 + 10, EPS);
}

TEST(lte_burst_costs_beta_over_its_span_plus_alpha_per_bit)
{
    /* 100 packets 10 ms apart from t = 10, alternately 1000 B up and down:
     * one burst of 0.99 s in continuous reception. */
    pl_radio_packet p[100];
    for (int i = 0; i < 100; i++)
        p[i] = pk(10 + i * 0.01, 1000, i % 2 ? PL_RADIO_DOWN : PL_RADIO_UP);
    pl_radio_result r;
    CHECK_EQ_INT(lte(p, 100, 0, 30, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.state_s[PL_LTE_CONTINUOUS], 0.99, EPS);
    double burst_j = 0.99 * 1.2 + J_UP(50000) + J_DOWN(50000); /* 1.188 + 0.1754 + 0.0208 */
    /* idle 0..9.74 (8 pings), tail to 21.11, idle 21.11..30 (7 pings) */
    CHECK_NEAR(r.joules, J_PROMO + burst_j + J_TAIL + 15 * J_IDLE_PING, EPS);
}

TEST(lte_heartbeats_every_30_60_120_s_average_0_39_0_21_0_11_w)
{
    /* The check: a channel quiet but for a heartbeat every P s.
     * Whole periods of promotion, tail and idle. */
    double periods[] = {30, 60, 120}, watts[] = {0.39, 0.21, 0.11};
    for (int k = 0; k < 3; k++) {
        pl_radio_lte m;
        pl_radio_lte_init(&m, &pl_radio_lte_default, 0);
        for (int i = 0; i < 20; i++)
            CHECK_EQ_INT(pl_radio_lte_packet(&m, 0.26 + i * periods[k], 40, PL_RADIO_DOWN), 0);
        pl_radio_result r;
        CHECK_EQ_INT(pl_radio_lte_result(&m, 20 * periods[k], &r), 0);
        CHECK_EQ_INT(r.promotions, 20);
        CHECK_NEAR(r.avg_mw / 1000, watts[k], 0.005);
    }
}

TEST(lte_rejects_packets_out_of_order_and_an_end_before_the_last)
{
    pl_radio_lte m;
    pl_radio_result r;
    pl_radio_lte_init(&m, &pl_radio_lte_default, 5);
    CHECK_EQ_INT(pl_radio_lte_packet(&m, 4, 1, PL_RADIO_UP), -EINVAL);
    CHECK_EQ_INT(pl_radio_lte_packet(&m, 6, 1, PL_RADIO_UP), 0);
    CHECK_EQ_INT(pl_radio_lte_packet(&m, 5.5, 1, PL_RADIO_UP), -EINVAL);
    CHECK_EQ_INT(pl_radio_lte_packet(&m, NAN, 1, PL_RADIO_UP), -EINVAL);
    CHECK_EQ_INT(pl_radio_lte_result(&m, 5.9, &r), -EINVAL);
    CHECK_EQ_INT(pl_radio_lte_result(&m, 6, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
}

TEST(lte_no_packet_is_idle_all_along)
{
    pl_radio_result r;
    CHECK_EQ_INT(lte(NULL, 0, 0, 12.8, &r), 0);
    CHECK_NEAR(r.joules, 10 * J_IDLE_PING, EPS);
    CHECK_NEAR(r.connected_share, 0, EPS);
    CHECK_EQ_INT(r.promotions, 0);
}

TEST(result_leaves_the_model_unchanged)
{
    pl_radio_lte m;
    pl_radio_result a, b;
    pl_radio_lte_init(&m, &pl_radio_lte_default, 0);
    CHECK_EQ_INT(pl_radio_lte_packet(&m, 1, 1, PL_RADIO_UP), 0);
    CHECK_EQ_INT(pl_radio_lte_result(&m, 5, &a), 0);
    CHECK_EQ_INT(pl_radio_lte_packet(&m, 30, 1, PL_RADIO_UP), 0);
    CHECK_EQ_INT(pl_radio_lte_result(&m, 40, &b), 0);
    CHECK_EQ_INT(b.promotions, 2);
    CHECK_NEAR(b.state_s[PL_LTE_DRX_LONG], 10 + 9.88, EPS);
    CHECK_NEAR(a.state_s[PL_LTE_DRX_LONG], 5 - 1 - 0.12, EPS);
}

/* ---- 3G: IDLE->DCH 2 s at 0.53 W, DCH 0.7 W for 5 s, FACH 0.35 W for 12 s ---- */

#define J_3G_WAKE (2.0 * 0.53 + 5 * 0.7 + 12 * 0.35) /* 8.76 */

TEST(g3_one_uplink_packet_promotes_then_holds_dch_5_s_and_fach_12_s)
{
    pl_radio_packet p[] = {pk(10, 100, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(p, 1, 0, 60, &r), 0);
    /* idle 0..10, promotion 10..12, DCH 12..17, FACH 17..29, idle 29..60 */
    CHECK_NEAR(r.state_s[PL_3G_PROMO_IDLE], 2, EPS);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 5, EPS);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 12, EPS);
    CHECK_NEAR(r.state_s[PL_3G_IDLE], 41, EPS);
    CHECK_NEAR(r.joules, J_3G_WAKE, EPS);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.dch_share, 5.0 / 60, EPS);
    CHECK_NEAR(r.fach_share, 12.0 / 60, EPS);
    CHECK_NEAR(r.connected_share, 19.0 / 60, EPS);
}

TEST(g3_one_downlink_packet_is_promoted_before_it_arrives)
{
    pl_radio_packet p[] = {pk(10, 100, PL_RADIO_DOWN)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(p, 1, 0, 25, &r), 0);
    /* promotion 8..10, DCH 10..15, FACH 15..25 (cut by the window) */
    CHECK_NEAR(r.state_s[PL_3G_IDLE], 8, EPS);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 5, EPS);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 10, EPS);
    CHECK_NEAR(r.joules, 2 * 0.53 + 5 * 0.7 + 10 * 0.35, EPS);
}

TEST(g3_small_transfers_stay_on_fach_and_restart_its_timer)
{
    /* DCH 12..17; then 200 B up at 20 and 400 B down at 25 fit the RLC
     * buffers (543 up, 475 down): FACH from 17 until 25 + 12 = 37. */
    pl_radio_packet p[] = {pk(10, 100, PL_RADIO_UP), pk(20, 200, PL_RADIO_UP),
                           pk(25, 400, PL_RADIO_DOWN)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(p, 3, 0, 60, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 20, EPS);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 5, EPS);
    CHECK_NEAR(r.state_s[PL_3G_IDLE], 10 + 23, EPS);
}

TEST(g3_a_transfer_past_the_rlc_buffer_promotes_fach_to_dch)
{
    /* 600 B up on FACH at 20 > 543: promotion 20..21.5 at 0.55 W, DCH
     * 21.5..26.5, FACH 26.5..38.5. */
    pl_radio_packet p[] = {pk(10, 100, PL_RADIO_UP), pk(20, 600, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(p, 2, 0, 60, &r), 0);
    CHECK_EQ_INT(r.promotions, 2);
    CHECK_EQ_INT(r.fach_promotions, 1);
    CHECK_NEAR(r.state_s[PL_3G_PROMO_FACH], 1.5, EPS);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 10, EPS);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 3 + 12, EPS);
    CHECK_NEAR(r.joules, 2 * 0.53 + 1.5 * 0.55 + 10 * 0.7 + 15 * 0.35, EPS);
}

TEST(g3_downlink_fach_promotion_ends_at_its_packet_but_not_before_the_last)
{
    /* FACH from 17. 600 B down at 25: promotion 23.5..25, DCH 25..30. */
    pl_radio_packet lone[] = {pk(10, 100, PL_RADIO_UP), pk(25, 600, PL_RADIO_DOWN)};
    /* 200 B down at 20 stays on FACH; 400 B more 10 ms later (the buffer
     * drains in 10 + 0.1*200 = 30 ms) passes 475: the promotion can only
     * start after the packet at 20, so it lasts 10 ms. */
    pl_radio_packet after[] = {pk(10, 100, PL_RADIO_UP), pk(20, 200, PL_RADIO_DOWN),
                               pk(20.01, 400, PL_RADIO_DOWN)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(lone, 2, 0, 60, &r), 0);
    CHECK_NEAR(r.state_s[PL_3G_PROMO_FACH], 1.5, EPS);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 6.5 + 12, EPS);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 10, EPS);
    CHECK_EQ_INT(g3(after, 3, 0, 60, &r), 0);
    CHECK_EQ_INT(r.fach_promotions, 1);
    CHECK_NEAR(r.state_s[PL_3G_PROMO_FACH], 0.01, EPS);
}

TEST(g3_rlc_buffer_adds_packets_until_it_drains)
{
    /* 300 B + 300 B up: 5 ms apart they share the buffer (it drains in
     * 20 + 1.6*300 + 0.0014*300^2 = 626 ms) and pass 543; 1 s apart not. */
    pl_radio_packet close[] = {pk(10, 100, PL_RADIO_UP), pk(20, 300, PL_RADIO_UP),
                               pk(20.005, 300, PL_RADIO_UP)};
    pl_radio_packet apart[] = {pk(10, 100, PL_RADIO_UP), pk(20, 300, PL_RADIO_UP),
                               pk(21, 300, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(close, 3, 0, 60, &r), 0);
    CHECK_EQ_INT(r.fach_promotions, 1);
    CHECK_EQ_INT(g3(apart, 3, 0, 60, &r), 0);
    CHECK_EQ_INT(r.fach_promotions, 0);
}

TEST(g3_only_320_bytes_within_0_3_s_reset_the_dch_timer)
{
    /* Promotion 10..12, DCH timer from 12. Small packets at 13 and 16
     * leave DCH ending at 17; 400 B at 13 moves its end to 18. */
    pl_radio_packet small[] = {pk(10, 100, PL_RADIO_UP), pk(13, 100, PL_RADIO_DOWN),
                               pk(16, 100, PL_RADIO_UP)};
    pl_radio_packet big[] = {pk(10, 100, PL_RADIO_UP), pk(13, 400, PL_RADIO_DOWN)};
    pl_radio_packet pair[] = {pk(10, 100, PL_RADIO_UP), pk(13, 200, PL_RADIO_DOWN),
                              pk(13.2, 200, PL_RADIO_DOWN)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(small, 3, 0, 60, &r), 0);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 5, EPS);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 12, EPS);
    CHECK_EQ_INT(g3(big, 2, 0, 60, &r), 0);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 6, EPS);
    CHECK_EQ_INT(g3(pair, 3, 0, 60, &r), 0);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 6.2, EPS);
}

TEST(g3_packets_every_3_s_hold_dch_when_large_and_fach_when_small)
{
    pl_radio_packet big[20], small[20];
    for (int i = 0; i < 20; i++) {
        big[i] = pk(10 + 3 * i, 1000, PL_RADIO_DOWN);
        small[i] = pk(10 + 3 * i, 200, PL_RADIO_DOWN);
    }
    pl_radio_result r;
    /* 1000 B: promotion 8..10, DCH 10..(67 + 5 = 72), window ends at 70. */
    CHECK_EQ_INT(g3(big, 20, 0, 70, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 60, EPS);
    /* 200 B: DCH 10..15 (never reset), FACH 15..70, restarted by each. */
    CHECK_EQ_INT(g3(small, 20, 0, 70, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.state_s[PL_3G_DCH], 5, EPS);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 55, EPS);
    CHECK_NEAR(r.connected_share, 62.0 / 70, EPS);
}

TEST(g3_two_packets_11_s_apart_meet_on_fach_and_20_s_apart_wake_twice)
{
    pl_radio_packet near[] = {pk(10, 100, PL_RADIO_UP), pk(21, 100, PL_RADIO_UP)};
    pl_radio_packet far[] = {pk(10, 100, PL_RADIO_UP), pk(30, 100, PL_RADIO_UP)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(near, 2, 0, 60, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.state_s[PL_3G_FACH], 33 - 17, EPS);
    CHECK_EQ_INT(g3(far, 2, 0, 60, &r), 0);
    CHECK_EQ_INT(r.promotions, 2);
    CHECK_NEAR(r.joules, 2 * J_3G_WAKE, EPS);
}

TEST(g3_packets_during_a_promotion_ride_on_it)
{
    /* A poll: request up at 10, answer down at 10.01, both in the
     * promotion; DCH from 12 as for one packet. */
    pl_radio_packet p[] = {pk(10, 300, PL_RADIO_UP), pk(10.01, 300, PL_RADIO_DOWN)};
    pl_radio_result r;
    CHECK_EQ_INT(g3(p, 2, 0, 60, &r), 0);
    CHECK_EQ_INT(r.promotions, 1);
    CHECK_NEAR(r.joules, J_3G_WAKE, EPS);
}

TEST(device_feeds_both_models)
{
    pl_radio_device d;
    pl_radio_result l, g;
    pl_radio_device_init(&d, 0);
    CHECK_EQ_INT(pl_radio_device_packet(&d, 10, 100, PL_RADIO_UP), 0);
    CHECK_EQ_INT(pl_radio_device_packet(&d, 9, 100, PL_RADIO_UP), -EINVAL);
    CHECK_EQ_INT(pl_radio_lte_result(&d.lte, 60, &l), 0);
    CHECK_EQ_INT(pl_radio_3g_result(&d.g3, 60, &g), 0);
    CHECK_EQ_INT(l.promotions, 1);
    CHECK_NEAR(g.joules, J_3G_WAKE, EPS);
}

int main(void)
{
    RUN(lte_one_packet_costs_a_promotion_and_a_full_tail);
    RUN(lte_one_wake_up_is_about_0_31_j_promotion_and_11_05_j_tail);
    RUN(lte_first_promotion_before_the_window_grows_the_window);
    RUN(lte_packets_every_3_s_keep_the_radio_connected);
    RUN(lte_any_period_under_10_4_s_never_idles_at_about_1_09_w);
    RUN(lte_two_packets_11_s_apart_wake_the_radio_twice);
    RUN(lte_packets_10_s_apart_continue_in_the_tail_without_promotion);
    RUN(lte_burst_costs_beta_over_its_span_plus_alpha_per_bit);
    RUN(lte_heartbeats_every_30_60_120_s_average_0_39_0_21_0_11_w);
    RUN(lte_rejects_packets_out_of_order_and_an_end_before_the_last);
    RUN(lte_no_packet_is_idle_all_along);
    RUN(result_leaves_the_model_unchanged);
    RUN(g3_one_uplink_packet_promotes_then_holds_dch_5_s_and_fach_12_s);
    RUN(g3_one_downlink_packet_is_promoted_before_it_arrives);
    RUN(g3_small_transfers_stay_on_fach_and_restart_its_timer);
    RUN(g3_a_transfer_past_the_rlc_buffer_promotes_fach_to_dch);
    RUN(g3_downlink_fach_promotion_ends_at_its_packet_but_not_before_the_last);
    RUN(g3_rlc_buffer_adds_packets_until_it_drains);
    RUN(g3_only_320_bytes_within_0_3_s_reset_the_dch_timer);
    RUN(g3_packets_every_3_s_hold_dch_when_large_and_fach_when_small);
    RUN(g3_two_packets_11_s_apart_meet_on_fach_and_20_s_apart_wake_twice);
    RUN(g3_packets_during_a_promotion_ride_on_it);
    RUN(device_feeds_both_models);
    return CHECK_DONE();
}

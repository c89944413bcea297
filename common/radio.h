/* A phone's cellular radio as an RRC state machine: from one device's
 * packet timeline (time, bytes, direction) to the time spent in each radio
 * state, the joules, the average power and the promotions, for LTE and 3G.
 * Pure arithmetic: no I/O, no allocation, no globals; one model value per
 * device, used by one thread at a time.
 *
 * The model is the one of AT&T's open-source Application Resource
 * Optimizer (ARO, later Video Optimizer: the state builder in
 * packetanalysis/impl/RrcStateRangeFactoryImpl.java and the energy
 * functions in configuration/impl/ProfileFactoryImpl.java), with its
 * default profiles. Its LTE side follows Huang et al., "A close examination
 * of performance and power characteristics of 4G LTE networks", MobiSys
 * 2012; its 3G side Qian et al., "Characterizing radio resource allocation
 * for 3G networks", IMC 2010. This is a model with published parameters,
 * not a measurement of a phone.
 *
 * LTE. Before its first packet the radio is idle. A packet that finds it
 * idle costs a promotion (0.26 s at 1.21 W) that ends at the packet. Packets
 * at most 0.1 s apart form one burst in continuous reception, costing
 * beta = 1.2 W for the burst's span plus 438.39 mW per Mbps up and
 * 51.97 mW per Mbps down. After a burst's last packet the tail runs:
 * 0.1 s more continuous reception at beta, 0.02 s of short DRX (a 2 ms
 * ping at 1.68 W every 20 ms, 1.06 W between), 10 s of long DRX (the same
 * ping every 40 ms), 10.12 s in all; a packet inside the tail starts a
 * new burst with no promotion. Idle costs a 43 ms ping at 0.594 W every
 * 1.28 s and nothing between. Hand arithmetic: one wake-up is 0.31 J of
 * promotion plus 11.05 J of tail; any period under 10.38 s (tail plus
 * promotion) never lets the radio idle, at about 1.09 W.
 *
 * 3G. IDLE -> DCH takes 2.0 s at 0.53 W; DCH (0.7 W) falls to FACH
 * (0.35 W) 5 s after its inactivity timer was last reset, and FACH to IDLE
 * (0 W) 12 s after its last packet. In DCH only 320 bytes or more in one
 * direction within 0.3 s reset the timer, so a trickle of small packets
 * does not hold DCH. On FACH a packet stays on FACH unless the RLC buffer
 * of its direction passes 543 bytes up or 475 bytes down; the buffer
 * drains in (20 + 1.6 q + 0.0014 q^2) ms up and (10 + 0.1 q) ms down for
 * q queued bytes. Passing it costs a FACH -> DCH promotion, 1.5 s at
 * 0.55 W. An uplink promotion starts at its packet (the packet waits for
 * it, and so do the packets behind it); a downlink one ends at its packet
 * (the network paged the phone before delivering), as a packet capture
 * on the phone would show them.
 *
 * Where this simplifies ARO, and why:
 * - 3G promotions take their average time. ARO also keeps a minimum and a
 *   maximum and uses them to place packets that land mid-promotion, and
 *   when a back-dated downlink promotion would overlap an earlier packet
 *   it rewrites earlier states; here a back-dated promotion starts no
 *   earlier than the last packet or the start of the state it leaves
 *   (and is that much shorter). Our timelines come from a bench on one
 *   host, not from a phone, so there is no radio delay in them to fit.
 * - Transfer energy counts every packet's bits at alpha, and beta over
 *   each burst's exact span. ARO sums (alpha * rate + beta) over 0.5 s
 *   windows; since power is linear in the rate, alpha * rate * window is
 *   alpha * bits whatever the windows, so only two details differ: ARO
 *   rounds each burst up to whole windows and does not count the bits of
 *   a burst's last packet (nor of a lone packet). For the small messages
 *   a chat sends either way is a few millijoules against 11 J of tail.
 * - A partial idle ping period costs ping then idle power; ARO charges
 *   ping power for all of it (an apparent slip in its energy function).
 * - A device's window is extended backwards if its first promotion began
 *   before it, so a run that starts with a connect pays a whole promotion.
 * - WiFi, the screen and the CPU are not modelled: this is the radio only.
 */
#ifndef PL_RADIO_H
#define PL_RADIO_H
#include <stddef.h>
#include <stdint.h>

enum pl_radio_dir { PL_RADIO_UP, PL_RADIO_DOWN };

/* One packet (or one socket read or write) of a device's timeline. */
typedef struct pl_radio_packet {
    double t;       /* seconds, any origin shared with the window */
    uint32_t bytes; /* payload seen */
    enum pl_radio_dir dir;
} pl_radio_packet;

enum pl_lte_state {
    PL_LTE_IDLE,
    PL_LTE_PROMOTION,
    PL_LTE_CONTINUOUS, /* a burst: first to last packet */
    PL_LTE_CR_TAIL,    /* continuous reception after the last packet */
    PL_LTE_DRX_SHORT,
    PL_LTE_DRX_LONG,
    PL_LTE_NSTATES
};

enum pl_3g_state {
    PL_3G_IDLE,
    PL_3G_PROMO_IDLE, /* IDLE -> DCH */
    PL_3G_PROMO_FACH, /* FACH -> DCH */
    PL_3G_DCH,
    PL_3G_FACH,
    PL_3G_NSTATES
};

/* The larger of PL_LTE_NSTATES and PL_3G_NSTATES. */
#define PL_RADIO_MAX_STATES 6

/* LTE parameters: seconds, watts, watts per Mbps. */
typedef struct pl_radio_lte_params {
    double promo_s, promo_w;
    double cr_tail_s;
    double drx_short_s, drx_long_s;
    double drx_short_period_s, drx_long_period_s;
    double drx_ping_s, drx_ping_w, drx_w;
    double idle_ping_s, idle_ping_period_s, idle_ping_w, idle_w;
    double beta_w, alpha_up_w, alpha_down_w;
} pl_radio_lte_params;

/* 3G parameters: seconds, watts, bytes; RLC drain times are
 * drain[0] + drain[1] q + drain[2] q^2 milliseconds for q queued bytes. */
typedef struct pl_radio_3g_params {
    double promo_idle_s, promo_idle_w;
    double promo_fach_s, promo_fach_w;
    double dch_timer_s, fach_timer_s;
    double dch_w, fach_w, idle_w;
    uint32_t dch_reset_bytes;
    double dch_reset_window_s;
    uint32_t rlc_up_bytes, rlc_down_bytes;
    double rlc_up_drain_ms[3], rlc_down_drain_ms[3];
} pl_radio_3g_params;

/* ARO's default profiles (the tables of issue 13). */
extern const pl_radio_lte_params pl_radio_lte_default;
extern const pl_radio_3g_params pl_radio_3g_default;

/* What a model says about one window of one device. */
typedef struct pl_radio_result {
    double duration_s;
    double state_s[PL_RADIO_MAX_STATES]; /* by enum pl_lte_state or pl_3g_state */
    double joules;
    double avg_mw;
    unsigned promotions;          /* 3G: idle and FACH promotions together */
    unsigned fach_promotions;     /* 3G only */
    double connected_share;       /* share of the window not idle */
    double dch_share, fach_share; /* 3G only: DCH, FACH (promotions apart) */
} pl_radio_result;

/* The LTE model's running state. Fields are private. */
typedef struct pl_radio_lte {
    const pl_radio_lte_params *p;
    double start, idle_from, burst_start, last;
    int has_packet;
    double state_s[PL_LTE_NSTATES];
    double joules;
    unsigned promotions;
} pl_radio_lte;

/* The 3G model's running state. Fields are private. */
typedef struct pl_radio_3g {
    const pl_radio_3g_params *p;
    enum pl_3g_state state;
    double start, seg_start, last;
    double promo_end, dch_reset, fach_last;
    int has_packet;
    struct pl_radio_queue {
        uint32_t bytes;
        double t;
    } dch_q[2], fach_q[2];
    double state_s[PL_3G_NSTATES];
    double joules;
    unsigned promotions, fach_promotions;
} pl_radio_3g;

/* Starts a window at time `start` with the radio idle. `p` must outlive
 * the model. */
void pl_radio_lte_init(pl_radio_lte *m, const pl_radio_lte_params *p, double start);
void pl_radio_3g_init(pl_radio_3g *m, const pl_radio_3g_params *p, double start);

/* Feeds one packet. Packets come in time order, none before the window's
 * start: returns 0, or -EINVAL (and changes nothing) for one out of order
 * or before the start. */
int pl_radio_lte_packet(pl_radio_lte *m, double t, uint32_t bytes, enum pl_radio_dir dir);
int pl_radio_3g_packet(pl_radio_3g *m, double t, uint32_t bytes, enum pl_radio_dir dir);

/* The figures for the window from its start to `end`, the tail cut there.
 * The model is not changed, so it can be asked again later and fed more.
 * Returns 0, or -EINVAL when `end` is before the last packet. */
int pl_radio_lte_result(const pl_radio_lte *m, double end, pl_radio_result *out);
int pl_radio_3g_result(const pl_radio_3g *m, double end, pl_radio_result *out);

/* One device under both models, with the default profiles. */
typedef struct pl_radio_device {
    pl_radio_lte lte;
    pl_radio_3g g3;
} pl_radio_device;

void pl_radio_device_init(pl_radio_device *d, double start);
/* Feeds both models; returns 0 or -EINVAL as above. */
int pl_radio_device_packet(pl_radio_device *d, double t, uint32_t bytes, enum pl_radio_dir dir);

#endif

/*
 * The ITU-T G.107 E-model: a MOS estimate from the figures a call's
 * quality report gives (round-trip time, jitter, packet loss), with every
 * other parameter at the Recommendation's default values and a G.711
 * codec. Pure functions: no I/O, no state.
 */
#ifndef VC_CALL_EMODEL_H
#define VC_CALL_EMODEL_H

/* Bounds of the inputs; beyond them a figure is refused as absurd. */
#define VC__EMODEL_RTT_MAX 60000.0     /* ms */
#define VC__EMODEL_JITTER_MAX 10000.0  /* ms */
#define VC__EMODEL_LOSS_MAX 100.0      /* percent */

/* What the mouth-to-ear delay adds to half the round trip: one 20 ms
 * G.711 packet (packetisation and decoding). */
#define VC__EMODEL_CODEC_DELAY_MS 20.0

typedef struct vc__emodel {
  double ta_ms;     /* the mouth-to-ear delay used */
  double ro, is, id, ie_eff;
  double r;         /* the transmission rating factor */
  double mos;       /* 1.0 .. 4.5 */
} vc__emodel;

/*
 * The one-way mouth-to-ear delay for a round trip and a jitter:
 * rtt/2 + 2 x jitter (a jitter buffer twice the jitter deep) + the codec
 * delay.
 */
double vc__emodel_delay(double rtt_ms, double jitter_ms);

/*
 * R and its parts for a mouth-to-ear delay `ta_ms` (0 .. 70000) and a
 * random packet loss `loss_pct` (0 .. 100). VC_EINVALID (with a message)
 * for negative, NaN, infinite or out-of-bounds input.
 */
int vc__emodel_rate(vc__emodel *out, double ta_ms, double loss_pct);

/*
 * The whole estimate from measured figures (rtt_ms, jitter_ms within
 * their bounds above, loss_pct 0 .. 100). VC_EINVALID as above.
 */
int vc__emodel_mos(vc__emodel *out, double rtt_ms, double jitter_ms,
                   double loss_pct);

/* MOS from R (G.107 Annex B), clamped to 1.0 .. 4.5. NaN gives 1.0. */
double vc__emodel_r_to_mos(double r);

#endif

/**
 * @file vyomcomm/ratecard.h
 * @brief Rate cards: what a provider charges per destination, from which
 *        the library estimates the cost of each call and message.
 *
 * A card belongs to a tenant and a provider (an adapter name such as
 * "twilio-voice"), optionally narrowed to one of the tenant's channels of
 * that provider, and applies from its `effective_from` time on. Each
 * entry prices one destination prefix: the digits of an E.164 number
 * without '+' ("91" for India, "1212" for New York; "" is the default
 * that matches every number). The longest prefix that matches wins.
 *
 * An entry may also price messages (`message_micros`, added in version
 * 2 of vc_ratecard_entry): per message, per segment for SMS. A message
 * is priced when it is queued by the card of its channel, with the
 * longest prefix of its recipient among the entries that price messages
 * (email and chat: the default entry); see docs/engagement.md "Costs".
 *
 * Money is integer micro-units (millionths of the currency's major unit)
 * with an ISO 4217 code; no floating point is used for money anywhere.
 *
 * The cost of a call with `talk_s` seconds of conversation:
 *   - billed = 0 when talk_s is 0; `initial_s` when 0 < talk_s <=
 *     initial_s; else initial_s + ceil((talk_s - initial_s) /
 *     subsequent_s) * subsequent_s;
 *   - cost = 0 when talk_s is 0 (no connection fee for a call that never
 *     talked); else connection_fee + billed * rate_per_min / 60, the
 *     division rounded half up to a whole micro-unit.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_ratecard handle is a snapshot and may be shared between threads.
 *
 * @defgroup vc_ratecard Rate cards
 * @{
 */
#ifndef VYOMCOMM_RATECARD_H
#define VYOMCOMM_RATECARD_H

#include "common.h"
#include "types.h"
#include "iter.h"

VC_BEGIN_DECL

/** A rate card handle: a snapshot of a stored card and its entries. */
typedef struct vc_ratecard vc_ratecard;

/** At most this many entries in one card. */
#define VC_RATECARD_MAX_ENTRIES 10000
/** At most this many bytes of CSV or JSON text in one import. */
#define VC_RATECARD_MAX_TEXT (2 * 1024 * 1024)
/** At most this many digits in a prefix (E.164 numbers have 15). */
#define VC_RATECARD_PREFIX_MAX 15
/** The largest rate or connection fee, in micro-units (10^9 units). */
#define VC_RATECARD_AMOUNT_MAX 1000000000000000LL
/** The longest billing pulse, in seconds. */
#define VC_RATECARD_PULSE_MAX 3600

/**
 * One destination's price. For vc_ratecard_set() strings are copied; from
 * vc_ratecard_entry_at() they are borrowed from the card.
 */
typedef struct vc_ratecard_entry {
  unsigned int version;          /**< VC_RATECARD_ENTRY_VERSION */
  const char *prefix;            /**< 0-15 digits; "" = default */
  int64_t rate_per_min_micros;   /**< per minute, 0..AMOUNT_MAX */
  int initial_s;                 /**< first pulse, 1..PULSE_MAX seconds */
  int subsequent_s;              /**< later pulses, 1..PULSE_MAX */
  int64_t connection_fee_micros; /**< per answered call, 0..AMOUNT_MAX */
  const char *currency;          /**< ISO 4217: three letters A-Z */
  /* added in version 2 (vyomcomm 0.3) */
  /** Price of one message (one segment of an SMS), 0..AMOUNT_MAX; 0:
   *  this entry does not price messages. @since 0.3 */
  int64_t message_micros;
} vc_ratecard_entry;

/* Version 1 entries (no message price) are still accepted: an array of
 * them is read with their own size. All entries of one array must have
 * the same version. */
/** The current version of vc_ratecard_entry, and an initializer with every
 *  member at its default (vc_ratecard_entry_init() for other languages). */
#define VC_RATECARD_ENTRY_VERSION 2
#define VC_RATECARD_ENTRY_INIT \
  { VC_RATECARD_ENTRY_VERSION, NULL, 0, 60, 60, 0, NULL, 0 }

/** Initialise a vc_ratecard_entry for `version`. @since 0.2 */
VC_EXTERN(int) vc_ratecard_entry_init(vc_ratecard_entry *e,
                                      unsigned int version);

/** Which card, and (for vc_ratecard_set) its entries. */
typedef struct vc_ratecard_spec {
  unsigned int version;       /**< VC_RATECARD_SPEC_VERSION */
  /** An adapter name ("twilio-voice"); may be NULL when `channel` is
   *  set (the channel's provider is taken). */
  const char *provider;
  /** A channel id or name of that provider, or NULL for a card of every
   *  channel of the provider. */
  const char *channel;
  int64_t effective_from;     /**< Unix ms the card applies from; >= 0 */
  const vc_ratecard_entry *entries; /**< vc_ratecard_set() only */
  size_t nentries;            /**< entries in `entries` */
} vc_ratecard_spec;

/** The current version of vc_ratecard_spec, and an initializer with every
 *  member at its default (vc_ratecard_spec_init() for other languages). */
#define VC_RATECARD_SPEC_VERSION 1
#define VC_RATECARD_SPEC_INIT \
  { VC_RATECARD_SPEC_VERSION, NULL, NULL, 0, NULL, 0 }

/** Initialise a vc_ratecard_spec for `version`. @since 0.2 */
VC_EXTERN(int) vc_ratecard_spec_init(vc_ratecard_spec *s,
                                     unsigned int version);

/**
 * Create a card, or replace the card with the same provider, channel and
 * effective_from (it keeps its id). The card is checked whole before
 * anything is stored: a bad prefix, an amount out of range, a pulse of
 * 0, a currency that is not three capital letters, a prefix given twice
 * or more than VC_RATECARD_MAX_ENTRIES entries refuse it, with a message
 * naming the entry (from 1), and nothing changes.
 *
 * @param id_out receives the card's id
 * @return 0; VC_EINVALID, VC_ETOOBIG (too many entries), VC_ENOTFOUND
 *   (unknown channel)
 * @since 0.2
 */
VC_EXTERN(int) vc_ratecard_set(char id_out[VC_ID_SIZE], vc_tenant *tenant,
                               const vc_ratecard_spec *spec);

/** Formats of vc_ratecard_import(). Values are pinned. */
typedef enum vc_ratecard_format {
  /** RFC 4180 CSV: the header line
   *  `prefix,rate_per_min,initial_s,subsequent_s,connection_fee,currency`
   *  then one entry per line; amounts are integer micro-units; fields may
   *  be quoted; CRLF or LF line ends; empty lines are skipped. A seventh
   *  column `message_price` (micro-units per message or SMS segment) is
   *  optional (@since 0.3). */
  VC_RATECARD_CSV = 1,
  /** JSON: {"entries": [{"prefix": "91", "rate_per_min": 12000,
   *  "initial_s": 60, "subsequent_s": 60, "connection_fee": 0,
   *  "currency": "INR"}, ...]} or the bare array; amounts are integers
   *  (micro-units); connection_fee may be left out (0). An entry may
   *  have `message_price` (@since 0.3); one that has it may leave out
   *  rate_per_min (0), initial_s and subsequent_s (60). */
  VC_RATECARD_JSON = 2
} vc_ratecard_format;

/**
 * vc_ratecard_set() with the entries read from CSV or JSON text (the
 * spec's entries must be NULL). A malformed text is refused whole with a
 * message naming the line (CSV, from 1 with the header) or the entry
 * (JSON, from 1); nothing is stored.
 *
 * @param text the text, `len` bytes (at most VC_RATECARD_MAX_TEXT)
 * @return 0; VC_EINVALID, VC_ETOOBIG, VC_EENCODING, VC_ENOTFOUND
 * @since 0.2
 */
VC_EXTERN(int) vc_ratecard_import(char id_out[VC_ID_SIZE],
                                  vc_tenant *tenant,
                                  const vc_ratecard_spec *spec, int format,
                                  const char *text, size_t len);

/** Load a card and its entries by id. @return 0, VC_ENOTFOUND. @since 0.2 */
VC_EXTERN(int) vc_ratecard_lookup(vc_ratecard **out, vc_tenant *tenant,
                                  const char *id);

/**
 * Delete a card and its entries. Costs already in the ledger stay.
 * @return 0, VC_ENOTFOUND
 * @since 0.2
 */
VC_EXTERN(int) vc_ratecard_delete(vc_tenant *tenant, const char *id);

/** What vc_ratecard_list() returns, in id (creation) order. */
typedef struct vc_ratecard_filter {
  unsigned int version;  /**< VC_RATECARD_FILTER_VERSION */
  const char *after;     /**< a vc_iter_cursor() value, or NULL */
  const char *provider;  /**< an adapter name, or NULL for any */
  const char *channel;   /**< a channel id, or NULL for any */
} vc_ratecard_filter;

/** The current version of vc_ratecard_filter, and an initializer with every
 *  member at its default (vc_ratecard_filter_init() for other languages). */
#define VC_RATECARD_FILTER_VERSION 1
#define VC_RATECARD_FILTER_INIT \
  { VC_RATECARD_FILTER_VERSION, NULL, NULL, NULL }

/** Initialise a vc_ratecard_filter for `version`. @since 0.2 */
VC_EXTERN(int) vc_ratecard_filter_init(vc_ratecard_filter *f,
                                       unsigned int version);

/**
 * List a tenant's cards. The iterator reads one card (with its entries)
 * at a time.
 * @return 0, VC_EINVALID
 * @since 0.2
 */
VC_EXTERN(int) vc_ratecard_list(vc_iter **out, vc_tenant *tenant,
                                const vc_ratecard_filter *filter);

/** The next card of a list. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_ratecard_next(vc_ratecard **out, vc_iter *it);

/** Free a card handle; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_ratecard_free(vc_ratecard *card);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.2 */
/** The card's id. */
VC_EXTERN(const char *) vc_ratecard_id(const vc_ratecard *card);
/** The adapter name the card prices. */
VC_EXTERN(const char *) vc_ratecard_provider(const vc_ratecard *card);
/** The channel id the card is narrowed to, "" for the whole provider. */
VC_EXTERN(const char *) vc_ratecard_channel_id(const vc_ratecard *card);
/** When the card applies from (Unix ms). */
VC_EXTERN(int64_t) vc_ratecard_effective_from(const vc_ratecard *card);
/** When the card was created (Unix ms). */
VC_EXTERN(int64_t) vc_ratecard_created_at(const vc_ratecard *card);
/** When the card last changed (Unix ms). */
VC_EXTERN(int64_t) vc_ratecard_updated_at(const vc_ratecard *card);
/** The number of entries, for vc_ratecard_entry_at(). */
VC_EXTERN(size_t) vc_ratecard_entry_count(const vc_ratecard *card);
/** Entry `i` (0-based, in the order given), or NULL past the end;
 *  borrowed from the card. */
VC_EXTERN(const vc_ratecard_entry *) vc_ratecard_entry_at(
  const vc_ratecard *card, size_t i);

/**
 * The cost a call would have now: the card of `provider_or_channel` in
 * effect now (a channel id or name of the tenant: that channel's card,
 * then its provider's; otherwise an adapter name: that provider's card),
 * its entry with the longest prefix of `destination`, and the pulses and
 * rounding described at the top of this header.
 *
 * @param cost_micros receives the cost in micro-units
 * @param currency receives the entry's ISO 4217 code
 * @param destination an E.164 number ("+" optional)
 * @param talk_s seconds of conversation, >= 0
 * @return 0; VC_ENOTFOUND (no card or no entry matches), VC_EINVALID,
 *   VC_ETOOBIG (the cost does not fit in 63 bits)
 * @since 0.2
 */
VC_EXTERN(int) vc_ratecard_quote(int64_t *cost_micros, char currency[4],
                                 vc_tenant *tenant,
                                 const char *provider_or_channel,
                                 const char *destination, int talk_s);

/**
 * The estimate a message would get now: the card of
 * `provider_or_channel` in effect now (found as for vc_ratecard_quote()),
 * its entry with the longest prefix of `destination` among the entries
 * that price messages, times `segments`.
 *
 * @param cost_micros receives the cost in micro-units
 * @param currency receives the entry's ISO 4217 code
 * @param destination an E.164 number ("+" optional), or NULL or "" for
 *   a message that is not to a number (email, chat): the default entry
 * @param segments SMS segments, 1..255; 1 for other messages
 * @return 0; VC_ENOTFOUND (no card or no entry prices messages there),
 *   VC_EINVALID
 * @since 0.3
 */
VC_EXTERN(int) vc_ratecard_quote_message(int64_t *cost_micros,
                                         char currency[4],
                                         vc_tenant *tenant,
                                         const char *provider_or_channel,
                                         const char *destination,
                                         int segments);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_RATECARD_H */

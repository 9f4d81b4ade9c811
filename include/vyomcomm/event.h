/**
 * @file vyomcomm/event.h
 * @brief The event log: every state change, in order, at least once.
 *
 * Thread safety: vc_events_since() may be called from any thread; an
 * iterator is used by one thread at a time.
 *
 * @defgroup vc_event Events
 * @{
 */
#ifndef VYOMCOMM_EVENT_H
#define VYOMCOMM_EVENT_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

/**
 * One event. Owned by the library; valid until the callback returns or
 * until the next vc_event_next() on the same iterator.
 */
typedef struct vc_event {
  uint64_t seq;             /**< increasing, unique within the store */
  const char *tenant_id;    /**< the tenant the event belongs to */
  const char *type;         /**< e.g. "tenant.created" */
  const char *subject_id;   /**< the object it is about */
  const char *payload_json; /**< a JSON object, never NULL */
  int64_t created_at;       /**< Unix milliseconds */
} vc_event;

/** Receives one event; return 0 once it is handled. */
typedef int VC_CALLBACK(vc_event_cb)(const vc_event *event, void *payload);

/**
 * Iterate over a tenant's events with `seq` greater than `cursor`, in
 * order. Pass the last seq you handled as the next cursor.
 *
 * @param out receives the iterator; freed with vc_iter_free()
 * @return 0 or a negative code
 * @since 0.1
 */
VC_EXTERN(int) vc_events_since(vc_iter **out, vc_tenant *tenant,
                               uint64_t cursor);

/**
 * The next event of an iterator from vc_events_since().
 *
 * @param out receives a borrowed event, valid until the next call
 * @return 0, VC_ITEROVER at the end, or a negative code
 * @since 0.1
 */
VC_EXTERN(int) vc_event_next(const vc_event **out, vc_iter *it);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_EVENT_H */

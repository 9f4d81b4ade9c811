/*
 * Handles that hold a snapshot of their row (channel, number, queue,
 * agent). An update swaps in a new row under the handle's lock and keeps
 * the old one on the new row's `retired` list until the handle is freed,
 * so a string a getter returned stays valid for the handle's lifetime.
 */
#ifndef VC_CORE_SNAPSHOT_H
#define VC_CORE_SNAPSHOT_H

#include <pthread.h>

/* Defines `type vc_<object>_<name>(const vc_<object> *h)`, reading
 * `h->row->expr` under `h->lock`; `none` for a NULL handle. */
#define VC__SNAPSHOT_GETTER(object, type, name, expr, none)        \
  type vc_##object##_##name(const vc_##object *h)                  \
  {                                                                \
    type v;                                                        \
    if (h == NULL)                                                 \
      return none;                                                 \
    pthread_mutex_lock((pthread_mutex_t *)&h->lock);               \
    v = h->row->expr;                                              \
    pthread_mutex_unlock((pthread_mutex_t *)&h->lock);             \
    return v;                                                      \
  }

#endif

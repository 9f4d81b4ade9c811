/**
 * @file vyomcomm/iter.h
 * @brief Iterators over lists. A list is read in bounded pages from the
 *        store; it never comes back as an unbounded array.
 *
 * Thread safety: an iterator is used by one thread at a time; different
 * iterators may be used concurrently.
 *
 * @defgroup vc_iter Iterators
 * @{
 */
#ifndef VYOMCOMM_ITER_H
#define VYOMCOMM_ITER_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

/**
 * The position after the last item returned, as a string to pass as the
 * `after` field of the list's filter to resume later. Borrowed, valid
 * until the next call on the iterator; "" before the first item.
 * @since 0.1
 */
VC_EXTERN(const char *) vc_iter_cursor(const vc_iter *it);

/** Free an iterator; NULL is accepted. @since 0.1 */
VC_EXTERN(void) vc_iter_free(vc_iter *it);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_ITER_H */

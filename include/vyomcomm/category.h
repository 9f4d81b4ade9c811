/**
 * @file vyomcomm/category.h
 * @brief What a message or call is about, for consent and quiet hours.
 *
 * Consent is kept per contact, channel kind and category (vyomcomm/consent.h):
 * a marketing send may need an opt-in that a transactional one does not,
 * and an opt-out of marketing leaves transactional messages flowing.
 * One-time passwords are transactional for consent, and by default exempt
 * from quiet hours.
 *
 * @defgroup vc_category Categories
 * @{
 */
#ifndef VYOMCOMM_CATEGORY_H
#define VYOMCOMM_CATEGORY_H

#include "common.h"

VC_BEGIN_DECL

/** Categories. Values are pinned; 0 in a spec means "the default". */
typedef enum vc_category {
  VC_CATEGORY_TRANSACTIONAL = 1, /**< receipts, alerts, service notices */
  VC_CATEGORY_MARKETING = 2,     /**< promotions, campaigns */
  VC_CATEGORY_OTP = 3            /**< one-time passwords and codes */
} vc_category;

/** A static name ("transactional", "marketing", "otp"), or NULL. @since 0.3 */
VC_EXTERN(const char *) vc_category_name(int category);

/** The category of a name, or VC_EINVALID. @since 0.3 */
VC_EXTERN(int) vc_category_from_name(const char *name);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CATEGORY_H */

/**
 * @file vyomcomm/contact.h
 * @brief Contacts: the people a tenant talks to, with their addresses per
 *        channel, timezone, locale, tags and custom fields.
 *
 * @defgroup vc_contact Contacts
 * @{
 */
#ifndef VYOMCOMM_CONTACT_H
#define VYOMCOMM_CONTACT_H

#include "common.h"
#include "types.h"

VC_BEGIN_DECL

/** What an address of a contact is. Values are pinned. */
typedef enum vc_address_kind {
  VC_ADDRESS_PHONE = 1,    /**< E.164 number: SMS and voice */
  VC_ADDRESS_EMAIL = 2,    /**< email address */
  VC_ADDRESS_TELEGRAM = 3, /**< Telegram chat id */
  VC_ADDRESS_WHATSAPP = 4  /**< WhatsApp id (the number in E.164) */
} vc_address_kind;

/**
 * Supplies bytes of a stream the library reads (a CSV file): copy up to
 * `cap` bytes into `buf` and set `*got`; `*got` = 0 marks the end.
 * Return 0, or a negative code to abort the read (returned as VC_EUSER
 * unless it is a VC_E* code).
 */
typedef int (*vc_read_cb)(void *payload, char *buf, size_t cap, size_t *got);

/** Told about each rejected row of an import: its 1-based line number
 *  (of the row's first line), the error code and a message. */
typedef void (*vc_import_error_cb)(void *payload, uint64_t line, int error,
                                   const char *message);

/**
 * A CSV import. The first row names the columns: `name`, `phone`,
 * `email`, `telegram`, `whatsapp`, `timezone`, `locale`, `tags` (several
 * separated by `;`); any other column is a custom field.
 */
typedef struct vc_contact_import_spec {
  unsigned int version;         /**< VC_CONTACT_IMPORT_SPEC_VERSION */
  vc_read_cb read;              /**< required */
  void *read_payload;
  vc_import_error_cb on_error;  /**< or NULL */
  void *error_payload;
  /** Tags given to every imported contact, separated by `;`, or NULL. */
  const char *tags;
} vc_contact_import_spec;

#define VC_CONTACT_IMPORT_SPEC_VERSION 1
#define VC_CONTACT_IMPORT_SPEC_INIT \
  { VC_CONTACT_IMPORT_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL }

/** Initialise a vc_contact_import_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_contact_import_spec_init(vc_contact_import_spec *s,
                                           unsigned int version);

/** What an import did. */
typedef struct vc_contact_import_result {
  unsigned int version;  /**< VC_CONTACT_IMPORT_RESULT_VERSION */
  uint64_t rows;         /**< data rows read */
  uint64_t created;      /**< new contacts */
  uint64_t updated;      /**< existing contacts (matched by address) */
  uint64_t rejected;     /**< rows refused; each told to on_error */
} vc_contact_import_result;

#define VC_CONTACT_IMPORT_RESULT_VERSION 1
#define VC_CONTACT_IMPORT_RESULT_INIT \
  { VC_CONTACT_IMPORT_RESULT_VERSION, 0, 0, 0, 0 }

/** Initialise a vc_contact_import_result for `version`. @since 0.3 */
VC_EXTERN(int) vc_contact_import_result_init(vc_contact_import_result *r,
                                             unsigned int version);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CONTACT_H */

/**
 * @file vyomcomm/contact.h
 * @brief Contacts: the people a tenant talks to, with their addresses per
 *        channel, timezone, locale, tags and custom fields.
 *
 * Contacts are deduplicated on their normalized addresses: one address
 * (an E.164 number, an email address with its domain in lower case, a
 * Telegram chat id, a WhatsApp number) belongs to at most one contact of
 * a tenant, and vc_contact_upsert() finds the contact that holds any of
 * the addresses it is given. Two contacts found to be one person are
 * merged with vc_contact_merge(): the merged contact's id keeps working
 * everywhere and resolves to the survivor.
 *
 * There is no delete: removing a contact is the erasure of personal data
 * (GDPR), which comes with its own API in a later release.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_contact handle is a snapshot and may be shared between threads.
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
  void *read_payload;         /**< passed to `read` */
  vc_import_error_cb on_error;  /**< or NULL */
  void *error_payload;        /**< passed to `on_error` */
  /** Tags given to every imported contact, separated by `;`, or NULL. */
  const char *tags;
} vc_contact_import_spec;

/** The current version of vc_contact_import_spec, and an initializer with
 *  every member at its default (vc_contact_import_spec_init() for other
 *  languages). */
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

/** The current version of vc_contact_import_result, and an initializer with
 *  every member at its default (vc_contact_import_result_init() for other
 *  languages). */
#define VC_CONTACT_IMPORT_RESULT_VERSION 1
#define VC_CONTACT_IMPORT_RESULT_INIT \
  { VC_CONTACT_IMPORT_RESULT_VERSION, 0, 0, 0, 0 }

/** Initialise a vc_contact_import_result for `version`. @since 0.3 */
VC_EXTERN(int) vc_contact_import_result_init(vc_contact_import_result *r,
                                             unsigned int version);

/* ---- contacts ---------------------------------------------------------- */

/** A contact handle: a snapshot of the stored contact. */
typedef struct vc_contact vc_contact;

/** Limits on what a contact holds. */
#define VC_CONTACT_NAME_MAX 200         /**< bytes of UTF-8 */
#define VC_CONTACT_TIMEZONE_MAX 64      /**< bytes */
#define VC_CONTACT_LOCALE_MAX 35        /**< bytes */
#define VC_CONTACT_ADDRESSES_MAX 16     /**< addresses of all kinds */
#define VC_CONTACT_TAGS_MAX 64          /**< tags per contact */
#define VC_CONTACT_TAG_MAX 64           /**< bytes per tag */
#define VC_CONTACT_FIELDS_MAX 64        /**< custom fields */
#define VC_CONTACT_FIELDS_BYTES (16 * 1024) /**< custom fields as JSON */
#define VC_CONTACT_FIELD_NAME_MAX 64    /**< bytes per field name */

/** A quiet-hours value in vc_contact_spec that keeps the current one (on
 *  creation: the tenant's window). VC_TENANT_KEEP (in both) follows the
 *  tenant's window, VC_QUIET_NONE (in both) means no quiet hours. */
#define VC_CONTACT_KEEP (-3)

/**
 * A contact's settings. For each pointer, NULL keeps the current value
 * (for a new contact: none). Strings are copied before the call returns.
 */
typedef struct vc_contact_spec {
  unsigned int version;   /**< VC_CONTACT_SPEC_VERSION */
  /** Display name, at most VC_CONTACT_NAME_MAX bytes of UTF-8 without
   *  control characters; "" removes it. */
  const char *name;
  /** Addresses, normalized before use: a phone number in E.164 (spaces,
   *  dots, hyphens and parentheses are dropped, a leading 00 becomes
   *  +), an email address (its domain in lower case), a Telegram chat id
   *  (a number or an @name), a WhatsApp number (E.164, the + optional).
   *  vc_contact_upsert() adds them; vc_contact_update() makes each given
   *  one the contact's only address of its kind, "" removing them. */
  const char *phone;
  const char *email;          /**< email address, or NULL */
  const char *telegram;       /**< Telegram chat id, or NULL */
  const char *whatsapp;       /**< WhatsApp number, or NULL */
  /** IANA zone name ("Asia/Kolkata") of the system's zoneinfo; "" =
   *  the tenant's. */
  const char *timezone;
  /** BCP 47 tag ("hi-IN"), stored in canonical case; "" = the
   *  tenant's. */
  const char *locale;
  /** Quiet hours override in minutes after local midnight (0..1439,
   *  different, the window may wrap past midnight), or VC_QUIET_NONE,
   *  VC_TENANT_KEEP or VC_CONTACT_KEEP in both. */
  int quiet_start_min;
  int quiet_end_min;          /**< end of the quiet hours */
  /** Tags separated by `;` (each trimmed of spaces, at most
   *  VC_CONTACT_TAG_MAX bytes of UTF-8 without control characters or
   *  commas). vc_contact_upsert() adds them; vc_contact_update()
   *  replaces the contact's tags with them ("" removes all). */
  const char *tags;
  /** Custom fields, a JSON object of at most VC_CONTACT_FIELDS_MAX
   *  members (names of at most VC_CONTACT_FIELD_NAME_MAX bytes) merged
   *  into the contact's: a member sets that field, a member whose value
   *  is null removes it. The result is bounded by VC_CONTACT_FIELDS_MAX
   *  and VC_CONTACT_FIELDS_BYTES. */
  const char *fields_json;
} vc_contact_spec;

/** The current version of vc_contact_spec, and an initializer with every
 *  member at its default (vc_contact_spec_init() for other languages). */
#define VC_CONTACT_SPEC_VERSION 1
#define VC_CONTACT_SPEC_INIT \
  { VC_CONTACT_SPEC_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
    VC_CONTACT_KEEP, VC_CONTACT_KEEP, NULL, NULL }

/** Initialise a vc_contact_spec for `version`. @since 0.3 */
VC_EXTERN(int) vc_contact_spec_init(vc_contact_spec *s,
                                    unsigned int version);

/**
 * Create a contact, or update the one that holds one of the spec's
 * addresses (the deduplication rule). At least one address is required.
 * On an existing contact the spec's non-NULL settings replace the
 * current ones, its addresses and tags are added and its fields merged.
 * Addresses held by two different contacts are VC_ECONFLICT: merge those
 * contacts first (vc_contact_merge()). Appends a contact.created or
 * contact.updated event. Thread-safe.
 *
 * @param id_out receives the contact's id
 * @return 0; VC_EINVALID (no address, a malformed address, name, tag,
 *   timezone (not a zone of the system's zoneinfo), locale or quiet
 *   hours), VC_ETOOBIG (a limit above, also once merged with the
 *   contact's current addresses, tags or fields), VC_EENCODING,
 *   VC_ECONFLICT (addresses of two contacts), VC_ENOTFOUND (the tenant
 *   was deleted)
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_upsert(char id_out[VC_ID_SIZE], vc_tenant *tenant,
                                 const vc_contact_spec *spec);

/**
 * Change a contact. NULL members and VC_CONTACT_KEEP keep the current
 * value; see vc_contact_spec for what each other value does. A merged
 * contact's id changes its survivor. Appends contact.updated.
 *
 * @return 0; VC_ENOTFOUND (no such contact), VC_ECONFLICT (an address
 *   held by another contact), VC_EINVALID, VC_ETOOBIG, VC_EENCODING
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_update(vc_tenant *tenant, const char *id,
                                 const vc_contact_spec *spec);

/**
 * Load a contact by id. A merged contact's id loads the survivor (whose
 * id the handle then has).
 * @param out receives a handle, freed with vc_contact_free()
 * @return 0, VC_ENOTFOUND, VC_EINVALID (not an id)
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_lookup(vc_contact **out, vc_tenant *tenant,
                                 const char *id);

/**
 * Load the contact holding an address of a kind, normalized as in
 * vc_contact_spec.
 * @param kind a vc_address_kind
 * @return 0, VC_ENOTFOUND, VC_EINVALID (a malformed address)
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_find_by_address(vc_contact **out,
                                          vc_tenant *tenant, int kind,
                                          const char *address);

/**
 * Give a contact one more address (nothing happens when it has it).
 * @return 0, VC_ENOTFOUND, VC_ECONFLICT (another contact holds it),
 *   VC_ETOOBIG (VC_CONTACT_ADDRESSES_MAX), VC_EINVALID
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_address_add(vc_tenant *tenant, const char *id,
                                      int kind, const char *address);

/**
 * Take an address from a contact; it may then be given to another.
 * @return 0, VC_ENOTFOUND (no such contact, or it does not hold the
 *   address), VC_EINVALID
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_address_remove(vc_tenant *tenant, const char *id,
                                         int kind, const char *address);

/**
 * Tag a contact (nothing happens when it has the tag).
 * @return 0, VC_ENOTFOUND, VC_ETOOBIG (VC_CONTACT_TAGS_MAX, or a tag
 *   longer than VC_CONTACT_TAG_MAX), VC_EINVALID
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_tag_add(vc_tenant *tenant, const char *id,
                                  const char *tag);

/**
 * Remove a tag from a contact (nothing happens when it lacks it).
 * @return 0, VC_ENOTFOUND (no such contact), VC_EINVALID
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_tag_remove(vc_tenant *tenant, const char *id,
                                     const char *tag);

/**
 * Merge `merged_id` into `survivor_id`, in one transaction: the merged
 * contact's addresses and tags move to the survivor, and so do its name,
 * timezone, locale, quiet hours and custom fields where the survivor has
 * none. The merged contact stays as a tombstone pointing at the survivor
 * (its own settings cleared): lookups of its id give the survivor, and
 * what refers to it (messages, calls, consent records) keeps its id,
 * which resolves to the survivor. Appends contact.merged. Merging a
 * contact already merged into the survivor does nothing.
 *
 * @return 0; VC_ENOTFOUND (either contact), VC_EINVALID (the same id
 *   twice, not ids), VC_ETOOBIG (the survivor would exceed a limit)
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_merge(vc_tenant *tenant, const char *survivor_id,
                                const char *merged_id);

/** What vc_contact_list() returns: live contacts, in id (creation)
 *  order. Every condition set must hold. */
typedef struct vc_contact_filter {
  unsigned int version;   /**< VC_CONTACT_FILTER_VERSION */
  const char *after;      /**< a vc_iter_cursor() value, or NULL */
  const char *tag;        /**< contacts with this tag, or NULL */
  int address_kind;       /**< contacts with an address of this
                               vc_address_kind, or 0 */
  /** Names that start with this (ASCII letters compared without case),
   *  or NULL. */
  const char *name_prefix;
  int64_t updated_since;  /**< changed at or after (Unix ms), or 0 */
} vc_contact_filter;

/** The current version of vc_contact_filter, and an initializer with every
 *  member at its default (vc_contact_filter_init() for other languages). */
#define VC_CONTACT_FILTER_VERSION 1
#define VC_CONTACT_FILTER_INIT \
  { VC_CONTACT_FILTER_VERSION, NULL, NULL, 0, NULL, 0 }

/** Initialise a vc_contact_filter for `version`. @since 0.3 */
VC_EXTERN(int) vc_contact_filter_init(vc_contact_filter *f,
                                      unsigned int version);

/**
 * List contacts, read from the store a page at a time (a keyset on the
 * id, so a cursor stays valid as contacts are added).
 * @param out receives the iterator; read it with vc_contact_next()
 * @param filter NULL for every live contact
 * @return 0, VC_EINVALID (a bad cursor, kind or tag), VC_EVERSION
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_list(vc_iter **out, vc_tenant *tenant,
                               const vc_contact_filter *filter);

/** The next contact of a list. @return 0, VC_ITEROVER. @since 0.3 */
VC_EXTERN(int) vc_contact_next(vc_contact **out, vc_iter *it);

/** Free a contact handle; NULL is accepted. @since 0.3 */
VC_EXTERN(void) vc_contact_free(vc_contact *c);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.3 */
/** The contact's id. */
VC_EXTERN(const char *) vc_contact_id(const vc_contact *c);
/** "" when none. */
VC_EXTERN(const char *) vc_contact_name(const vc_contact *c);
/** "" when the tenant's. */
VC_EXTERN(const char *) vc_contact_timezone(const vc_contact *c);
/** "" when the tenant's. */
VC_EXTERN(const char *) vc_contact_locale(const vc_contact *c);
/** The override, VC_QUIET_NONE in both, or VC_TENANT_KEEP in both when
 *  the tenant's window applies. @return 0. */
VC_EXTERN(int) vc_contact_quiet_hours(const vc_contact *c, int *start_min,
                                      int *end_min);
/** The custom fields, a JSON object ("{}" when none). */
VC_EXTERN(const char *) vc_contact_fields_json(const vc_contact *c);
/** The first address of a vc_address_kind (the oldest), "" when none. */
VC_EXTERN(const char *) vc_contact_address(const vc_contact *c, int kind);
/** How many addresses the contact has. */
VC_EXTERN(size_t) vc_contact_address_count(const vc_contact *c);
/** Address `i` (0-based, by kind then age) and its kind, or NULL past
 *  the end. `kind` may be NULL. */
VC_EXTERN(const char *) vc_contact_address_at(const vc_contact *c, size_t i,
                                              int *kind);
/** The number of tags, for vc_contact_tag_at(). */
VC_EXTERN(size_t) vc_contact_tag_count(const vc_contact *c);
/** Tag `i` (0-based, in byte order), or NULL past the end. */
VC_EXTERN(const char *) vc_contact_tag_at(const vc_contact *c, size_t i);
/** When the contact was created (Unix ms). */
VC_EXTERN(int64_t) vc_contact_created_at(const vc_contact *c);
/** When the contact last changed (Unix ms). */
VC_EXTERN(int64_t) vc_contact_updated_at(const vc_contact *c);

/* ---- CSV import --------------------------------------------------------- */

/** Limits on an imported CSV; a row over them is rejected alone. */
#define VC_CONTACT_IMPORT_ROW_MAX (64 * 1024)  /**< bytes of a row */
#define VC_CONTACT_IMPORT_COLUMNS_MAX 128      /**< columns */

/**
 * Import contacts from CSV (RFC 4180: quoted fields with doubled quotes,
 * commas and line breaks inside quotes, CRLF or LF line ends, UTF-8, a
 * byte order mark allowed). The input is read through `spec->read` in
 * chunks and stored in batches (of 500 rows, or fewer when they are
 * large), one transaction each, so memory stays bounded whatever the
 * size of the input.
 *
 * The header row names the columns (without case): `name`, `phone`,
 * `email`, `telegram`, `whatsapp`, `timezone`, `locale`, `tags` (several
 * separated by `;`); any other column is a custom field of that name.
 * Each row is a vc_contact_upsert() of its non-empty cells, plus the
 * spec's tags. A row that is malformed (CSV, length, UTF-8) or refused
 * (no address, a bad value, addresses of two contacts) is told to
 * `on_error` with its line, code and message, and
 * skipped; the rest are imported. `on_error` runs on the calling thread
 * with no store connection held.
 *
 * A failure of the read callback or of the store stops the import and
 * is returned: the batches committed before stay (they are counted in
 * `out`), the batch being written is undone.
 *
 * @param out receives the counts (also when the import stopped)
 * @return 0; VC_EINVALID (a malformed or duplicate header, no address
 *   column, no read callback, bad spec tags), a read callback's code, a
 *   store error
 * @since 0.3
 */
VC_EXTERN(int) vc_contact_import_csv(vc_contact_import_result *out,
                                     vc_tenant *tenant,
                                     const vc_contact_import_spec *spec);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_CONTACT_H */

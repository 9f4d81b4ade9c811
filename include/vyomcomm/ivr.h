/**
 * @file vyomcomm/ivr.h
 * @brief IVR menus: what a customer hears when answering a click-to-call,
 *        and what each key does, before (or instead of) the bridge.
 *
 * A menu is a tenant's named document (JSON, format version 1; see
 * docs/calls.md "IVR menus") of nodes: each node has a prompt (text to
 * speak, or an https audio URL), a timeout, a number of retries and
 * options per key (0-9, *, #): transfer to an agent or a number, go to
 * another node, repeat, hang up, connect to the call's agent, or send a
 * message template to the customer and go on. The definition is
 * validated strictly when stored; a call names the menu in
 * vc_call_spec.ivr_menu. Every key a caller presses is kept in the
 * call's timeline as a `dtmf` entry with the menu and node, and
 * vc_ivr_path() reads a caller's path back.
 *
 * Thread safety: every function may be called from any thread; a
 * vc_ivr_menu handle is a snapshot and may be shared between threads,
 * but vc_ivr_menu_update() must not run concurrently with readers of the
 * same handle's strings.
 *
 * @defgroup vc_ivr IVR menus
 * @{
 */
#ifndef VYOMCOMM_IVR_H
#define VYOMCOMM_IVR_H

#include "common.h"
#include "types.h"
#include "buffer.h"
#include "iter.h"

VC_BEGIN_DECL

/** A menu handle: a snapshot of the stored menu. */
typedef struct vc_ivr_menu vc_ivr_menu;

/** The menu document's format version this library reads and writes. */
#define VC_IVR_FORMAT_VERSION 1

/** Limits of a menu document. */
#define VC_IVR_NAME_MAX 64            /**< menu name, bytes */
#define VC_IVR_DEFINITION_MAX 65536   /**< the JSON document, bytes */
#define VC_IVR_NODES_MAX 32           /**< nodes per menu */
#define VC_IVR_DEPTH_MAX 8            /**< key presses from the entry to
                                           the farthest node */
#define VC_IVR_NODE_NAME_MAX 32       /**< [a-z0-9][a-z0-9_-]*, bytes */
#define VC_IVR_TEXT_MAX 1024          /**< a spoken text, bytes */
#define VC_IVR_URL_MAX 2048           /**< an audio URL, bytes */
#define VC_IVR_TIMEOUT_MAX 60         /**< seconds to wait for a key */
#define VC_IVR_RETRIES_MAX 5          /**< replays after a timeout or a
                                           wrong key */

/** A menu to store. Strings are copied before the call returns. */
typedef struct vc_ivr_menu_spec {
  unsigned int version;       /**< VC_IVR_MENU_SPEC_VERSION */
  /** Unique among the tenant's menus: [a-z0-9][a-z0-9_.-]{0,63}.
   *  Required by vc_ivr_menu_new(); NULL keeps it on update. */
  const char *name;
  /** The menu document (JSON object, at most VC_IVR_DEFINITION_MAX
   *  bytes). Required by vc_ivr_menu_new(); NULL keeps it on update. */
  const char *definition_json;
} vc_ivr_menu_spec;

/** The current version of vc_ivr_menu_spec, and an initializer with every
 *  member at its default (vc_ivr_menu_spec_init() for other languages). */
#define VC_IVR_MENU_SPEC_VERSION 1
#define VC_IVR_MENU_SPEC_INIT { VC_IVR_MENU_SPEC_VERSION, NULL, NULL }

/** Initialise a vc_ivr_menu_spec for `version`. @since 0.2 */
VC_EXTERN(int) vc_ivr_menu_spec_init(vc_ivr_menu_spec *s,
                                     unsigned int version);

/** What vc_ivr_menu_list() returns, by id. */
typedef struct vc_ivr_menu_filter {
  unsigned int version;       /**< VC_IVR_MENU_FILTER_VERSION */
  const char *after;          /**< a vc_iter_cursor() value, or NULL */
} vc_ivr_menu_filter;

/** The current version of vc_ivr_menu_filter, and an initializer with every
 *  member at its default (vc_ivr_menu_filter_init() for other languages). */
#define VC_IVR_MENU_FILTER_VERSION 1
#define VC_IVR_MENU_FILTER_INIT { VC_IVR_MENU_FILTER_VERSION, NULL }

/** Initialise a vc_ivr_menu_filter for `version`. @since 0.2 */
VC_EXTERN(int) vc_ivr_menu_filter_init(vc_ivr_menu_filter *f,
                                       unsigned int version);

/**
 * Validate and store a menu. Every rule of the document is checked (see
 * docs/calls.md): unknown members, wrong types, bad keys, node names,
 * prompts, URLs, numbers, references to nodes that do not exist, nodes
 * that cannot be reached from the entry, a node going to itself, more
 * than VC_IVR_NODES_MAX nodes or deeper than VC_IVR_DEPTH_MAX; agents,
 * channels and templates the options name must exist. The message says
 * where the first fault is ("node 'sales' key '2': ...").
 *
 * @param out receives the handle (may be NULL if not wanted)
 * @return 0; VC_EINVALID (a rule), VC_ETOOBIG, VC_EENCODING,
 *   VC_ENOTFOUND (an agent, channel or template named by an option),
 *   VC_EEXISTS (name taken)
 * @since 0.2
 */
VC_EXTERN(int) vc_ivr_menu_new(vc_ivr_menu **out, vc_tenant *tenant,
                               const vc_ivr_menu_spec *spec);

/**
 * Change a menu's name and/or definition (validated as by
 * vc_ivr_menu_new()); the handle is refreshed and its revision grows by
 * one. Calls already in the menu continue with the new definition (a
 * caller on a node that no longer exists is taken to the entry).
 * @return 0; as vc_ivr_menu_new(), VC_ENOTFOUND (deleted)
 * @since 0.2
 */
VC_EXTERN(int) vc_ivr_menu_update(vc_ivr_menu *menu,
                                  const vc_ivr_menu_spec *spec);

/**
 * Load a live menu by id or by name (an id match wins).
 * @return 0, VC_ENOTFOUND, VC_EINVALID
 * @since 0.2
 */
VC_EXTERN(int) vc_ivr_menu_lookup(vc_ivr_menu **out, vc_tenant *tenant,
                                  const char *id_or_name);

/**
 * Delete a menu: new calls can no longer name it and its name is free
 * again; calls already in it finish with it.
 * @return 0, VC_ENOTFOUND (already deleted)
 * @since 0.2
 */
VC_EXTERN(int) vc_ivr_menu_delete(vc_ivr_menu *menu);

/** List the tenant's live menus by id. @return 0, VC_EINVALID.
 *  @since 0.2 */
VC_EXTERN(int) vc_ivr_menu_list(vc_iter **out, vc_tenant *tenant,
                                const vc_ivr_menu_filter *filter);
/** The next menu of a list. @return 0, VC_ITEROVER. @since 0.2 */
VC_EXTERN(int) vc_ivr_menu_next(vc_ivr_menu **out, vc_iter *it);

/** Free a menu handle; NULL is accepted. @since 0.2 */
VC_EXTERN(void) vc_ivr_menu_free(vc_ivr_menu *menu);

/** @name Getters
 *  Strings are borrowed from the handle. @since 0.2 */
/** The menu's id. */
VC_EXTERN(const char *) vc_ivr_menu_id(const vc_ivr_menu *menu);
/** The menu's name, unique within the tenant. */
VC_EXTERN(const char *) vc_ivr_menu_name(const vc_ivr_menu *menu);
/** The stored document: the definition as validated, with every default
 *  written out (timeouts, retries, language, fallback). */
VC_EXTERN(const char *) vc_ivr_menu_definition_json(const vc_ivr_menu *m);
/** 1 when created, +1 per update. */
VC_EXTERN(int) vc_ivr_menu_revision(const vc_ivr_menu *menu);
/** When the menu was created (Unix ms). */
VC_EXTERN(int64_t) vc_ivr_menu_created_at(const vc_ivr_menu *menu);
/** When the menu last changed (Unix ms). */
VC_EXTERN(int64_t) vc_ivr_menu_updated_at(const vc_ivr_menu *menu);

/**
 * A caller's path through the IVR of a call, from its timeline's `dtmf`
 * entries, oldest first, as a JSON object:
 * `{"call_id": "...", "steps": [{"seq": 7, "at": 1700000000000,
 * "menu": "<menu id>", "node": "main", "digits": "2", "action": "menu",
 * "to": "billing", "attempt": 0}, ...]}`. A step's `action` is one of
 * menu, repeat, hangup, connect, transfer, message, invalid; `to` is the
 * node a menu action went to, `target` a transfer's number, `then` what
 * a message action did next, `fallback` 1 when the menu's fallback ran.
 *
 * @param out receives the JSON (the caller disposes of it)
 * @return 0; VC_ENOTFOUND (no such call of the tenant), VC_EINVALID
 * @since 0.2
 */
VC_EXTERN(int) vc_ivr_path(vc_buf *out, vc_tenant *tenant,
                           const char *call_id);

VC_END_DECL

/** @} */
#endif /* VYOMCOMM_IVR_H */

/*
 * JSON that comes from outside (a caller's variables, a channel's
 * configuration): bounded in size and nesting before it is parsed, and
 * never quoted in error messages (it may hold credentials).
 */
#ifndef VC_CORE_JSON_H
#define VC_CORE_JSON_H

#include <stddef.h>

#include <cJSON.h>

/*
 * Parse `text` (NUL-terminated) into *out, freed with cJSON_Delete().
 * `what` names the input in messages. VC_ETOOBIG past `max_bytes` or
 * nested deeper than `max_depth`; VC_EENCODING when not UTF-8;
 * VC_EINVALID when not JSON (or, with `want_object`, not an object), or
 * when a number is beyond a double's range (1e999: cJSON would keep it
 * as infinity and print it back as null).
 */
int vc__json_parse(cJSON **out, const char *what, const char *text,
                   size_t max_bytes, int max_depth, int want_object);

/*
 * Check that `text`, when not NULL, is a JSON object as vc__json_parse
 * reads one, without keeping it: for JSON the library stores as the
 * caller gave it (a message's or call's metadata).
 */
int vc__json_check_object(const char *what, const char *text,
                          size_t max_bytes, int max_depth);

/*
 * cJSON_ParseWithLengthOpts under the library's parse lock. cJSON resets
 * a process-global error position on every parse, so every parse in the
 * library goes through here (or vc__json_parse) to stay free of races.
 */
cJSON *vc__cjson_parse(const char *text, size_t len, const char **end,
                       int require_nul);

/* The string member `key` of `obj`, or NULL when absent or not a string. */
const char *vc__json_str(const cJSON *obj, const char *key);

/*
 * Zero every string of a tree (values and key names) before it is freed:
 * cJSON made copies of the credentials it parsed, and a secret pasted in
 * the wrong place may be a key.
 */
void vc__json_wipe(cJSON *item);

/*
 * A JSON key's name fit for a message: at most 64 bytes, anything but
 * printable ASCII as '?'. `name` may be NULL. Returns out.
 */
const char *vc__json_key_name(char out[68], const char *name);

#endif

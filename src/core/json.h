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
 * VC_EINVALID when not JSON (or, with `want_object`, not an object).
 */
int vc__json_parse(cJSON **out, const char *what, const char *text,
                   size_t max_bytes, int max_depth, int want_object);

/*
 * cJSON_ParseWithLengthOpts under the library's parse lock. cJSON resets
 * a process-global error position on every parse, so every parse in the
 * library goes through here (or vc__json_parse) to stay free of races.
 */
cJSON *vc__cjson_parse(const char *text, size_t len, const char **end,
                       int require_nul);

#endif

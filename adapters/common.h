/*
 * What the built-in adapters share: the checks of a channel's config
 * and credentials objects, base URLs, and provider number formats.
 * Internal: nothing here is exported.
 */
#ifndef VC_ADAPTERS_COMMON_H
#define VC_ADAPTERS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* The bound on a config or credentials document. */
#define VC__ADAPTER_CONFIG_MAX (16 * 1024)

/*
 * Parse a config or credentials object (NULL reads as "{}"): at most
 * VC__ADAPTER_CONFIG_MAX bytes, 4 levels deep. `what` names it in
 * messages; the text itself is never quoted (it may hold secrets).
 */
int vc__adapter_parse_config(cJSON **out, const char *json,
                             const char *what);

/*
 * Refuse unknown and repeated keys in the "<what>.<key>" style:
 * "<what> has an unknown key ['<name>']" (quoted when `quote` and the
 * name is 1..64 of [A-Za-z0-9_-]) and "<what>.<key> is given twice".
 */
int vc__adapter_check_keys(const cJSON *obj, const char *what,
                           const char *const *keys, size_t nkeys,
                           int quote);

/*
 * The string member `key` of `obj` into *out, NULL when absent or null;
 * VC_EINVALID ("<what>.<key> must be a string") when another type.
 */
int vc__adapter_get_str(const char **out, const cJSON *obj,
                        const char *what, const char *key);

/*
 * Whether `host` (n bytes, a port allowed) is loopback: localhost,
 * 127.x or [::1]. Plain http:// is allowed only there (the simulator),
 * so that no credential crosses a network in clear text.
 */
int vc__adapter_loopback_host(const char *host, size_t n);

/*
 * Check config 'base_url': printable ASCII of at most `max` bytes,
 * https:// (http:// only for a loopback host), a host, an optional
 * path; no user, query, fragment or backslash. *len is its length
 * without trailing slashes, for the adapter to append its path.
 */
int vc__adapter_check_base_url(const char *url, size_t max, size_t *len);

/*
 * A provider's price, a decimal string ("0.03330000"), in micro-units,
 * rounded half up: at most `max_whole` digits before the point, a sign
 * only when `signed_ok` (then the absolute value). -1 if malformed.
 */
int vc__adapter_parse_price(const char *s, int signed_ok, int max_whole,
                            int64_t *micros);

/*
 * An adapter's init: a zeroed state of `size` bytes; the config parsed
 * and read by read_config, then the credentials parsed and read by
 * read_credentials (so config errors come first). The credentials
 * document is wiped before it is freed. On failure the state is handed
 * to fini (which takes a half-filled one) and *state stays NULL.
 */
int vc__adapter_init(void **state, size_t size, const char *config_json,
                     const char *credentials_json,
                     int (*read_config)(void *st, const cJSON *cfg),
                     int (*read_credentials)(void *st, const cJSON *cred),
                     void (*fini)(void *st));

/*
 * Credential `key` copied into *out (NULL when absent or null): min..max
 * printable ASCII bytes without spaces, and without ':' unless
 * `colon_ok`. VC_EINVALID otherwise; the value is never quoted.
 */
int vc__adapter_read_secret(char **out, const cJSON *cred, const char *key,
                            size_t min, size_t max, int colon_ok);

/* Wipe a NUL-terminated secret and free it (NULL is fine). */
void vc__adapter_free_secret(char *s);

#endif

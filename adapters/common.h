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

#endif

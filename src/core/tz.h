/*
 * Time zones from the system zoneinfo (/usr/share/zoneinfo, TZif
 * versions 1 to 3), without the process TZ, localtime() or tzset(): the
 * library never touches a host's global state.
 *
 * Local wall time to an instant is defined everywhere: a local time that
 * does not exist (the hour skipped when clocks go forward) is the first
 * instant after the gap, and one that exists twice (the hour repeated
 * when clocks go back) is the earlier instant.
 */
#ifndef VC_CORE_TZ_H
#define VC_CORE_TZ_H

#include <stdint.h>

#include "vyomcomm/ctx.h"

#define VC__TZ_NAME_MAX 64              /* bytes of an IANA name */
#define VC__TZ_FILE_MAX (256 * 1024)    /* bytes of a TZif file */
#define VC__TZ_TRANSITIONS_MAX 4096
#define VC__TZ_CACHE_MAX 32             /* zones kept per context */

typedef struct vc__tz vc__tz;

/* A local date and time. */
typedef struct vc__tm {
  int year, month, day;     /* month 1..12, day 1..31 */
  int hour, min, sec;
  int wday;                 /* 0 = Sunday */
  int ms;                   /* 0..999 */
  int32_t utoff;            /* seconds east of UTC */
  int isdst;
} vc__tm;

/* Whether `name` is a zone the system knows: 0, or VC_EINVALID with a
 * message saying why (bad name, no such zone, unreadable file). Reads
 * the file each time; vc__tz_acquire() caches. */
int vc__tz_check(const char *name);

/* The zone `name`, parsed once per context and shared: release it with
 * vc__tz_release(). VC_EINVALID as vc__tz_check(). */
int vc__tz_acquire(const vc__tz **out, vc_ctx *ctx, const char *name);
void vc__tz_release(vc_ctx *ctx, const vc__tz *z);

/* A zone parsed from TZif bytes, outside any cache (tests, fuzzing);
 * freed with vc__tz_free(). */
int vc__tz_parse(vc__tz **out, const char *name, const unsigned char *data,
                 size_t len);
void vc__tz_free(vc__tz *z);

const char *vc__tz_name(const vc__tz *z);

/* The local time of an instant (Unix ms). */
void vc__tz_local(vc__tm *out, const vc__tz *z, int64_t utc_ms);

/* The instant of a local wall time (tm's year..sec and ms; the rest is
 * ignored), under the gap and overlap rules above. Fields out of range
 * are normalised (day 32 is the 1st of the next month). */
int64_t vc__tz_to_utc(const vc__tz *z, const vc__tm *local);

/* The first instant of the local day after the one holding `utc_ms`. */
int64_t vc__tz_next_midnight(const vc__tz *z, int64_t utc_ms);

/* The context's cache (ctx.c). */
struct vc__tz_cache;
int vc__tz_cache_new(struct vc__tz_cache **out);
void vc__tz_cache_free(struct vc__tz_cache *c);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t vc__days_from_civil(int64_t y, int m, int d);
void vc__civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif /* VC_CORE_TZ_H */

/*
 * The vyomcomm program: a channel as JSON, for the CLI and the REST
 * server alike; each passes how it writes times, optional strings and
 * the settings.
 */
#ifndef VYOMCOMM_CHANNEL_JSON_H
#define VYOMCOMM_CHANNEL_JSON_H

#include <stdint.h>

#include <cJSON.h>

#include "vyomcomm.h"

typedef struct channel_json_style {
  /* A string that may be NULL or empty. */
  void (*add_str)(cJSON *o, const char *name, const char *v);
  /* A time in Unix ms. */
  void (*add_time)(cJSON *o, const char *name, int64_t ms);
  /* JSON text the library wrote (the settings). */
  void (*add_json)(cJSON *o, const char *name, const char *text);
  const char *settings_name;      /* the settings' key */
  int updated_at;                 /* 1: "updated_at" too */
} channel_json_style;

/* A new object for `ch`. */
cJSON *channel_json_new(const vc_channel *ch, const channel_json_style *st);

#endif

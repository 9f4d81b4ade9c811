/*
 * The built-in webhook listener (libre's HTTP server on its own thread).
 * libre's headers stay out of this header.
 */
#ifndef VC_NET_LISTEN_H
#define VC_NET_LISTEN_H

#include <stdint.h>

#include "vyomcomm/types.h"

typedef struct vc__listener vc__listener;

int vc__listener_start(vc__listener **out, vc_ctx *ctx, const char *addr);
uint16_t vc__listener_port(const vc__listener *l);
void vc__listener_stop(vc__listener *l);

#endif

/*
 * vyomcomm demo: the wall clock and a free loopback port, shared by the
 * parts that talk to the provider simulator.
 */
#ifndef VYOMCOMM_DEMO_NET_H
#define VYOMCOMM_DEMO_NET_H

#include <stdint.h>

/* Unix time in milliseconds. */
int64_t demo_wall_ms(void);

/* A loopback port free right now (for a webhook listener), or -1. */
int demo_free_port(void);

#endif

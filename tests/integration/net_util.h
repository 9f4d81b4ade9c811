/*
 * Small helpers the end-to-end tests share: the wall clock, and a free
 * loopback port for the webhook listener (public_base_url must name it
 * before the context exists).
 */
#ifndef VC_TEST_NET_UTIL_H
#define VC_TEST_NET_UTIL_H

#include "harness.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when `port` can be bound on loopback for `type` right now. */
static inline int port_bindable(int type, int port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, type, 0), ok;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  if (fd >= 0)
    close(fd);
  return ok;
}

/* A port nobody uses right now, over TCP and UDP (the listener takes it
 * next). It is drawn below the kernel's ephemeral range: a port from
 * that range can be handed to any outgoing connection between this
 * check and the listen, which happens under load when many tests run at
 * once. */
static inline int free_port(void)
{
  static unsigned int seed;
  unsigned int lo = 32768;
  FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

  if (f != NULL) {
    if (fscanf(f, "%u", &lo) != 1)
      lo = 32768;
    fclose(f);
  }
  if (lo <= 12000)
    lo = 32768;
  if (seed == 0)
    seed = (unsigned int)getpid() ^ (unsigned int)wall_ms();
  for (int i = 0; i < 1000; i++) {
    int port = 10000 + (int)(rand_r(&seed) % (lo - 10000));
    if (port_bindable(SOCK_STREAM, port) && port_bindable(SOCK_DGRAM, port))
      return port;
  }
  CHECK(!"no free port below the ephemeral range");
  return -1;
}

#endif

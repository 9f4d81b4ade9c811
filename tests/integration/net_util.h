/*
 * Small helpers the end-to-end tests share: the wall clock, and a free
 * loopback port for the webhook listener (public_base_url must name it
 * before the context exists).
 */
#ifndef VC_TEST_NET_UTIL_H
#define VC_TEST_NET_UTIL_H

#include "harness.h"

#include <arpa/inet.h>
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

/* A port nobody listens on right now (the listener takes it next). */
static inline int free_port(void)
{
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

#endif

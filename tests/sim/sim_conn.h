/*
 * The simulator's connections, shared by the HTTP server (sim.c) and its
 * WebSocket side (sim_ws.c). Everything here runs on the libre thread.
 */
#ifndef VC_SIM_CONN_H
#define VC_SIM_CONN_H

#include <re.h>
#include "sim_int.h"

typedef struct sim_conn {
  struct le le;
  vc_sim *sim;
  struct tcp_conn *tc;
  struct mbuf *rx;           /* unparsed input from rx->pos */
  struct tmr tmr;
  struct mbuf *slow;         /* rest of an answer written slowly */
  unsigned chunk, delay_ms;
  int busy;                  /* an answer is held or trickling */
  int close_after;           /* close once the answer is out */
  int draining;              /* answered early: discard input, close */
  int cont_sent;             /* 100 Continue sent for this request */
  sim_ws *ws;                /* upgraded: input is WebSocket frames */
} sim_conn;

/* A WebSocket connection (libre thread). */
struct sim_ws {
  sim_conn *conn;            /* NULL until the 101 is sent */
  sim_ws_handler h;
  void *arg;
  struct mbuf *msg;          /* a fragmented message being assembled */
  int msg_text;
  int quiet;                 /* closed by the provider: no closed() */
};

/* Queue an answer on the connection; close it, now or once written. */
int sim_conn_send(sim_conn *c, struct mbuf *mb);
void sim_conn_close(sim_conn *c);
void sim_conn_close_soon(sim_conn *c);
/* Drop the consumed part of the input buffer. */
int sim_conn_rx_compact(sim_conn *c);

/* The WebSocket side: frames arrived on an upgraded connection, and the
 * connection under a WebSocket went away. */
void sim_ws_input(sim_conn *c);
void sim_ws_gone(sim_ws *ws);

#endif

/*
 * The simulator's WebSocket server side (RFC 6455): the upgrade, frames
 * in and out, ping, close. Providers with event streams (the ARI
 * simulator) use sim_ws_accept, sim_ws_send and sim_ws_close.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <mbedtls/sha1.h>
#include <re.h>
#include "sim_int.h"
#include "sim_conn.h"

enum { SIM_WS_MAX_MSG = 64 * 1024 };  /* a client's WebSocket message */

/* Close the TCP connection on the loop's next turn. */
static void close_later(void *arg)
{
  sim_conn_close(arg);
}

#define SIM_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* 1 when a comma-separated header value holds `token` (any case). */
static int hdr_token(const char *v, size_t len, const char *token)
{
  size_t tl = strlen(token), i = 0;

  while (v != NULL && i < len) {
    size_t s, e;
    while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    s = i;
    while (i < len && v[i] != ',')
      i++;
    e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
      e--;
    if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
      return 1;
  }
  return 0;
}

/* A key that decodes to 16 bytes: 22 base64 characters and "==". */
static int ws_key_ok(const char *k, size_t n)
{
  static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;

  if (k == NULL || n != 24 || k[22] != '=' || k[23] != '=')
    return 0;
  for (i = 0; i < 22; i++)
    if (k[i] == '\0' || strchr(b64, k[i]) == NULL)
      return 0;
  /* The last character carries 2 bits: its low 4 bits must be zero. */
  return (strchr(b64, k[21]) - b64) % 16 == 0;
}

int sim_ws_accept(vc_sim *sim, const sim_req *rq, sim_resp *rs,
                  const char *protocol, const sim_ws_handler *h, void *arg,
                  sim_ws **out)
{
  const struct http_msg *msg = rq->msg_;
  const char *up, *conn, *ver, *key, *proto;
  size_t upl = 0, connl = 0, verl = 0, keyl = 0, protol = 0;
  unsigned char digest[20];
  char accept[40], src[64];
  sim_ws *ws;

  (void)sim;
  *out = NULL;
  up = sim_req_header(rq, "Upgrade", &upl);
  conn = sim_req_header(rq, "Connection", &connl);
  ver = sim_req_header(rq, "Sec-WebSocket-Version", &verl);
  key = sim_req_header(rq, "Sec-WebSocket-Key", &keyl);
  proto = sim_req_header(rq, "Sec-WebSocket-Protocol", &protol);
  if (strcmp(rq->method, "GET") != 0 || pl_strcmp(&msg->ver, "1.1") != 0)
    return 400;
  if (up == NULL || !hdr_token(up, upl, "websocket")) {
    sim_buf_str(&rs->headers, "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n");
    return 426;
  }
  if (conn == NULL || !hdr_token(conn, connl, "upgrade"))
    return 400;
  if (ver == NULL || verl != 2 || strncmp(ver, "13", 2) != 0) {
    sim_buf_str(&rs->headers, "Sec-WebSocket-Version: 13\r\n");
    return 426;
  }
  if (!ws_key_ok(key, keyl))
    return 400;
  if (proto != NULL && (protocol == NULL ||
                        !hdr_token(proto, protol, protocol)))
    return 400;
  memcpy(src, key, 24);
  memcpy(src + 24, SIM_WS_GUID, 36);
  if (mbedtls_sha1_ret((const unsigned char *)src, 60, digest) != 0 ||
      sim_base64(accept, sizeof(accept), digest, sizeof(digest)) != 0)
    return 500;
  ws = calloc(1, sizeof(*ws));
  if (ws == NULL)
    return 500;
  ws->h = *h;
  ws->arg = arg;
  sim_resp_reset(rs);
  rs->status = 101;
  sim_buf_printf(&rs->headers, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n", accept);
  if (proto != NULL)
    sim_buf_printf(&rs->headers, "Sec-WebSocket-Protocol: %s\r\n", protocol);
  rs->upgrade_ = ws;
  *out = ws;
  return 0;
}

/* The connection (or the upgrade) is over: tell the provider, free. */
void sim_ws_gone(sim_ws *ws)
{
  if (ws->conn != NULL)
    ws->conn->ws = NULL;
  if (!ws->quiet && ws->h.closed != NULL)
    ws->h.closed(ws->arg, ws);
  mem_deref(ws->msg);
  free(ws);
}

/* One unmasked frame from the server. */
static int ws_frame(sim_conn *c, int opcode, const void *data, size_t len)
{
  uint8_t head[10];
  size_t hl = 2, i;
  struct mbuf *mb;

  head[0] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    head[1] = (uint8_t)len;
  } else if (len <= 0xffff) {
    head[1] = 126;
    head[2] = (uint8_t)(len >> 8);
    head[3] = (uint8_t)len;
    hl = 4;
  } else {
    head[1] = 127;
    for (i = 0; i < 8; i++)
      head[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    hl = 10;
  }
  mb = mbuf_alloc(hl + len);
  if (mb == NULL)
    return ENOMEM;
  (void)mbuf_write_mem(mb, head, hl);
  if (len)
    (void)mbuf_write_mem(mb, data, len);
  mb->pos = 0;
  return sim_conn_send(c, mb);
}

int sim_ws_send(sim_ws *ws, const char *text, size_t len)
{
  if (ws == NULL || ws->conn == NULL || ws->conn->draining)
    return ENOTCONN;
  return ws_frame(ws->conn, 0x1, text, len);
}

static void close_frame(sim_conn *c, unsigned code)
{
  uint8_t b[2] = { (uint8_t)(code >> 8), (uint8_t)code };

  (void)ws_frame(c, 0x8, b, code ? 2 : 0);
}

void sim_ws_close(sim_ws *ws, unsigned code)
{
  sim_conn *c;

  if (ws == NULL)
    return;
  c = ws->conn;
  ws->quiet = 1;
  sim_ws_gone(ws);
  if (c == NULL || c->draining)
    return;
  if (code != 0) {
    close_frame(c, code);
    sim_conn_close_soon(c);
    return;
  }
  /* Dropped as by a crash: no Close frame; the TCP connection closes on
   * the next turn of the loop, never under the caller. */
  c->draining = 1;
  tmr_start(&c->tmr, 0, close_later, c);
}

/* A protocol error: Close with `code`, tell the provider, close. */
static void ws_fail(sim_conn *c, unsigned code)
{
  close_frame(c, code);
  if (c->ws != NULL)
    sim_ws_gone(c->ws);
  sim_conn_close_soon(c);
}

/* Parse the client's frames in c->rx. */
void sim_ws_input(sim_conn *c)
{
  while (c->rx != NULL && c->ws != NULL && !c->draining) {
    struct mbuf *rx = c->rx;
    const uint8_t *p = mbuf_buf(rx);
    size_t left = mbuf_get_left(rx), hl = 2, i;
    uint64_t len;
    int fin, op;
    uint8_t *data;
    sim_ws *ws = c->ws;

    if (left < 2)
      break;
    fin = (p[0] & 0x80) != 0;
    op = p[0] & 0x0f;
    len = p[1] & 0x7f;
    if (len == 126) {
      if (left < 4)
        break;
      len = (uint64_t)p[2] << 8 | p[3];
      hl = 4;
    } else if (len == 127) {
      if (left < 10)
        break;
      for (len = 0, i = 0; i < 8; i++)
        len = len << 8 | p[2 + i];
      hl = 10;
    }
    /* Reserved bits need an extension; clients must mask (5.1). */
    if ((p[0] & 0x70) != 0 || (p[1] & 0x80) == 0) {
      ws_fail(c, 1002);
      return;
    }
    if (len > SIM_WS_MAX_MSG) {
      ws_fail(c, 1009);
      return;
    }
    if (left < hl + 4 + len)
      break;
    data = malloc((size_t)len + 1);
    if (data == NULL) {
      ws_fail(c, 1011);
      return;
    }
    for (i = 0; i < len; i++)
      data[i] = p[hl + 4 + i] ^ p[hl + i % 4];
    data[len] = '\0';
    mbuf_advance(rx, (ssize_t)(hl + 4 + len));

    if (op >= 0x8) {
      /* Control frames: whole and short (5.5). */
      if (!fin || len > 125) {
        free(data);
        ws_fail(c, 1002);
        return;
      }
      if (op == 0x8) {
        unsigned code = len >= 2 ? (unsigned)(data[0] << 8 | data[1]) : 0;
        free(data);
        close_frame(c, code ? code : 1000);
        sim_ws_gone(ws);
        sim_conn_close_soon(c);
        return;
      }
      if (op == 0x9)
        (void)ws_frame(c, 0xa, data, (size_t)len);
      else if (op != 0xa) {
        free(data);
        ws_fail(c, 1002);
        return;
      }
    } else if (op == 0x1 || op == 0x2 || op == 0x0) {
      if ((op == 0x0) != (ws->msg != NULL)) {
        free(data);
        ws_fail(c, 1002);
        return;
      }
      if (op != 0x0 && fin) {
        ws->h.recv(ws->arg, ws, op == 0x1, (const char *)data, (size_t)len);
      } else {
        /* Fragments gather in ws->msg, written at its end. */
        if (ws->msg == NULL) {
          ws->msg = mbuf_alloc(len ? (size_t)len : 64);
          ws->msg_text = op == 0x1;
        }
        if (ws->msg == NULL || ws->msg->end + len > SIM_WS_MAX_MSG ||
            mbuf_write_mem(ws->msg, data, (size_t)len) != 0) {
          free(data);
          ws_fail(c, ws->msg ? 1009 : 1011);
          return;
        }
        if (fin) {
          struct mbuf *m = ws->msg;
          ws->msg = NULL;
          if (mbuf_write_u8(m, 0) == 0)
            ws->h.recv(ws->arg, ws, ws->msg_text, (const char *)m->buf,
                       m->end - 1);
          mem_deref(m);
        }
      }
    } else {
      free(data);
      ws_fail(c, 1002);
      return;
    }
    free(data);
  }
  if (c->rx != NULL && !c->draining && sim_conn_rx_compact(c) != 0)
    sim_conn_close(c);
}


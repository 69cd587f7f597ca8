/*
 * udp_mmsg: batched UDP I/O for the media relay's video path (Linux), an optional N-API addon.
 *
 * Node's dgram costs, per datagram received, a 64 KiB allocation shrunk to the datagram, a JS object for the
 * sender's address, an event emission and a callback into JS; per datagram sent, argument checks, a SendWrap and
 * one sendmsg(2). Here a socket owned by this addon is polled on Node's own libuv loop; when it is readable,
 * recvmmsg(2) takes up to BATCH datagrams into one ring the JS side shares (no allocation), JS is called ONCE for
 * the batch, and what JS sends meanwhile is queued and leaves in one sendmmsg(2) after JS returns. Sends made
 * outside a batch (timers: RTCP, keyframe requests, NACK answers) go out at once with sendto(2).
 *
 * Sends are batched across sockets: a packet received on a publisher's port leaves from each receiver's port
 * (symmetric RTP), so while ANY socket's batch is in JS, every send is queued on its own socket and all queues are
 * flushed when JS returns (the dirty list; per thread, as a worker thread loading the addon has its own loop).
 *
 * IPv4 only (the caller falls back to dgram for IPv6). Addresses cross as host-order uint32 + port.
 *
 * JS API (media-relay/rtp/mmsg-socket.ts wraps it):
 *   open(host: string, port: number, rcvbuf: number) → handle          throws Error with .code on failure
 *   start(handle, ring: ArrayBuffer, meta: Int32Array, onBatch: (n) => void)
 *        ring: BATCH × SLOT octets; datagram i is at i × SLOT; meta[3i] = length (−1: truncated, dropped by JS),
 *        meta[3i+1] = source IPv4 (host order, as int32), meta[3i+2] = source port
 *   send(handle, buf: Uint8Array, ip: number, port: number) → 0 or −errno   (queued while a batch is being handled)
 *   localPort(handle) → number
 *   stats(handle) → [batches, datagramsIn, datagramsOut, sendErrors]
 *   close(handle)
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int polling;
  int closed;
  napi_ref cb;
  napi_ref ring_ref;
  napi_ref meta_ref;
  napi_ref self_ref; /* keeps the handle's JS object alive while polling */
  napi_async_context actx;
  uint8_t *ring;
  int32_t *meta;
  struct mmsghdr rmsg[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_in raddr[BATCH];
  /* send queue */
  int nq;
  struct mmsghdr smsg[BATCH];
  struct iovec siov[BATCH];
  struct sockaddr_in saddr[BATCH];
  uint8_t sbuf[BATCH][SLOT];
  int dirty; /* on the dirty list */
  double batches, in, out, send_errors;
} Sock;

#define MAX_DIRTY 1024
static __thread int t_in_batch;
static __thread Sock *t_dirty[MAX_DIRTY];
static __thread int t_ndirty;

#define CHECK_NAPI(call)                                                                                         \
  do {                                                                                                           \
    if ((call) != napi_ok) {                                                                                     \
      napi_throw_error(env, NULL, "udp_mmsg: N-API call failed: " #call);                                        \
      return NULL;                                                                                               \
    }                                                                                                            \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  napi_value msg, code, e;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &e);
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ESYSCALL";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, e, "code", code);
  napi_throw(env, e);
  return NULL;
}

static Sock *get_sock(napi_env env, napi_value v) {
  Sock *s = NULL;
  if (napi_unwrap(env, v, (void **)&s) != napi_ok) return NULL;
  return s;
}

static void flush(Sock *s) {
  int done = 0;
  while (done < s->nq) {
    int r = sendmmsg(s->fd, s->smsg + done, (unsigned)(s->nq - done), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      /* The rest of the batch is lost (EAGAIN: send buffer full; others: unreachable etc.), counted. */
      s->send_errors += s->nq - done;
      break;
    }
    s->out += r;
    done += r;
  }
  s->nq = 0;
}

/* Send what every socket queued during the batch (closed sockets flushed and left the list when closing). */
static void flush_dirty(void) {
  for (int i = 0; i < t_ndirty; i++) {
    Sock *d = t_dirty[i];
    d->dirty = 0;
    if (d->nq > 0) flush(d);
  }
  t_ndirty = 0;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  Sock *s = (Sock *)h->data;
  (void)events;
  if (s->closed || status < 0) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv;
  napi_get_reference_value(env, s->cb, &cb);
  napi_get_reference_value(env, s->self_ref, &recv);
  for (int round = 0; round < 4 && !s->closed; round++) {
    int n = recvmmsg(s->fd, s->rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      int len = (int)s->rmsg[i].msg_len;
      if (s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) len = -1;
      s->meta[3 * i] = len;
      s->meta[3 * i + 1] = (int32_t)ntohl(s->raddr[i].sin_addr.s_addr);
      s->meta[3 * i + 2] = ntohs(s->raddr[i].sin_port);
      s->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
      s->rmsg[i].msg_hdr.msg_flags = 0;
    }
    s->batches++;
    s->in += n;
    napi_value argv[1], result;
    napi_create_int32(env, n, &argv[0]);
    t_in_batch = 1;
    napi_status st = napi_make_callback(env, s->actx, recv, cb, 1, argv, &result);
    t_in_batch = 0;
    flush_dirty();
    if (st != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc); /* process 'uncaughtException', as a throwing dgram listener would */
      }
      break;
    }
    if (n < BATCH) break;
  }
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *h) {
  Sock *s = (Sock *)h->data;
  free(s);
}

static void sock_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Sock *s = (Sock *)data;
  /* Only reached once close() ran (self_ref is held while polling) or when start() was never called. */
  if (s->fd >= 0) close(s->fd);
  if (s->polling) return; /* freed by on_closed */
  free(s);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char host[64];
  size_t hl = 0;
  int32_t port = 0, rcvbuf = 0;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_int32(env, argv[2], &rcvbuf) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(host, port, rcvbuf)");
    return NULL;
  }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "open: host is not an IPv4 literal");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf); /* best effort (rmem_max caps it) */
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  Sock *s = (Sock *)calloc(1, sizeof(Sock));
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  for (int i = 0; i < BATCH; i++) {
    s->siov[i].iov_base = s->sbuf[i];
    s->smsg[i].msg_hdr.msg_iov = &s->siov[i];
    s->smsg[i].msg_hdr.msg_iovlen = 1;
    s->smsg[i].msg_hdr.msg_name = &s->saddr[i];
    s->smsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    s->saddr[i].sin_family = AF_INET;
  }
  CHECK_NAPI(napi_create_object(env, &self));
  if (napi_wrap(env, self, s, sock_finalize, NULL, NULL) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "udp_mmsg: wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], name;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 4 ? get_sock(env, argv[0]) : NULL;
  void *ring = NULL;
  size_t ring_len = 0;
  napi_typedarray_type tt;
  size_t meta_len = 0;
  void *meta = NULL;
  if (s == NULL || s->closed || s->polling || napi_get_arraybuffer_info(env, argv[1], &ring, &ring_len) != napi_ok || ring_len < BATCH * SLOT ||
      napi_get_typedarray_info(env, argv[2], &tt, &meta_len, &meta, NULL, NULL) != napi_ok || tt != napi_int32_array || meta_len < 3 * BATCH) {
    napi_throw_type_error(env, NULL, "start(handle, ring, meta, onBatch)");
    return NULL;
  }
  s->ring = (uint8_t *)ring;
  s->meta = (int32_t *)meta;
  for (int i = 0; i < BATCH; i++) {
    s->riov[i].iov_base = s->ring + (size_t)i * SLOT;
    s->riov[i].iov_len = SLOT;
    s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
    s->rmsg[i].msg_hdr.msg_iovlen = 1;
    s->rmsg[i].msg_hdr.msg_name = &s->raddr[i];
    s->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  CHECK_NAPI(napi_create_reference(env, argv[1], 1, &s->ring_ref));
  CHECK_NAPI(napi_create_reference(env, argv[2], 1, &s->meta_ref));
  CHECK_NAPI(napi_create_reference(env, argv[3], 1, &s->cb));
  CHECK_NAPI(napi_create_reference(env, argv[0], 1, &s->self_ref));
  CHECK_NAPI(napi_create_string_utf8(env, "udp_mmsg", NAPI_AUTO_LENGTH, &name));
  CHECK_NAPI(napi_async_init(env, NULL, name, &s->actx));
  uv_loop_t *loop;
  CHECK_NAPI(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &s->poll, s->fd) != 0) {
    napi_throw_error(env, NULL, "udp_mmsg: uv_poll_init failed");
    return NULL;
  }
  s->poll.data = s;
  s->polling = 1;
  uv_poll_start(&s->poll, UV_READABLE, on_poll);
  return NULL;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], ret;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 4 ? get_sock(env, argv[0]) : NULL;
  void *data = NULL;
  size_t len = 0;
  uint32_t ip = 0;
  int32_t port = 0;
  if (s == NULL || napi_get_typedarray_info(env, argv[1], NULL, &len, &data, NULL, NULL) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &ip) != napi_ok || napi_get_value_int32(env, argv[3], &port) != napi_ok) {
    napi_throw_type_error(env, NULL, "send(handle, buf, ip, port)");
    return NULL;
  }
  int rc = 0;
  if (s->closed) {
    rc = -EBADF;
  } else if (len > SLOT) {
    rc = -EMSGSIZE;
    s->send_errors++;
  } else if (t_in_batch && (s->dirty || t_ndirty < MAX_DIRTY)) {
    if (!s->dirty) {
      s->dirty = 1;
      t_dirty[t_ndirty++] = s;
    }
    int q = s->nq;
    memcpy(s->sbuf[q], data, len);
    s->siov[q].iov_len = len;
    s->saddr[q].sin_addr.s_addr = htonl(ip);
    s->saddr[q].sin_port = htons((uint16_t)port);
    s->smsg[q].msg_len = 0;
    if (++s->nq == BATCH) flush(s);
  } else {
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(ip);
    to.sin_port = htons((uint16_t)port);
    ssize_t r;
    do r = sendto(s->fd, data, len, 0, (struct sockaddr *)&to, sizeof to);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      rc = -errno;
      s->send_errors++;
    } else {
      s->out++;
    }
  }
  napi_create_int32(env, rc, &ret);
  return ret;
}

static napi_value js_local_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ret;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 1 ? get_sock(env, argv[0]) : NULL;
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  if (s == NULL || s->closed || getsockname(s->fd, (struct sockaddr *)&a, &al) < 0) {
    napi_throw_error(env, NULL, "localPort: closed");
    return NULL;
  }
  napi_create_int32(env, ntohs(a.sin_port), &ret);
  return ret;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], arr, v;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 1 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL) {
    napi_throw_type_error(env, NULL, "stats(handle)");
    return NULL;
  }
  double f[4] = {s->batches, s->in, s->out, s->send_errors};
  napi_create_array_with_length(env, 4, &arr);
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_double(env, f[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 1 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL || s->closed) return NULL;
  if (s->nq > 0) flush(s); /* sent before close: it goes out, as with dgram */
  if (s->dirty) {
    for (int i = 0; i < t_ndirty; i++)
      if (t_dirty[i] == s) t_dirty[i] = t_dirty[--t_ndirty];
    s->dirty = 0;
  }
  s->closed = 1;
  if (s->polling) {
    uv_poll_stop(&s->poll);
    napi_delete_reference(env, s->cb);
    napi_delete_reference(env, s->ring_ref);
    napi_delete_reference(env, s->meta_ref);
    napi_async_destroy(env, s->actx);
  }
  close(s->fd);
  s->fd = -1;
  if (s->polling) {
    /* The JS object may now be collected; the Sock itself is freed when libuv has closed the poll handle. */
    napi_delete_reference(env, s->self_ref);
    napi_remove_wrap(env, argv[0], NULL);
    uv_close((uv_handle_t *)&s->poll, on_closed);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value batch, slot;
  napi_create_int32(env, BATCH, &batch);
  napi_create_int32(env, SLOT, &slot);
  napi_set_named_property(env, exports, "BATCH", batch);
  napi_set_named_property(env, exports, "SLOT", slot);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

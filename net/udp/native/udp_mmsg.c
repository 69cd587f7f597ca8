/*
 * udp_mmsg: batched UDP I/O for the media relay's video path and the SIP UDP transport (Linux), an optional N-API
 * addon.
 *
 * Node's dgram costs, per datagram received, a 64 KiB allocation shrunk to the datagram, a JS object for the
 * sender's address, an event emission and a callback into JS; per datagram sent, argument checks, a SendWrap and
 * one sendmsg(2). Here a socket owned by this addon is polled on Node's own libuv loop; when it is readable,
 * recvmmsg(2) takes up to BATCH datagrams into a receive ring shared with JS (no allocation), JS is called ONCE for
 * the batch, and what JS sends meanwhile is copied into a send arena, queued per socket, and leaves in one
 * sendmmsg(2) per socket after JS returns. Sends made outside a batch (timers: RTCP, keyframe requests) go out at
 * once with sendto(2).
 *
 * Sends are batched ACROSS sockets: a packet received on a publisher's port leaves from each receiver's port
 * (symmetric RTP), so while any socket's batch is in JS, every send is queued on its own socket and all queues are
 * flushed when JS returns (the dirty list). The ring, the arena and the dirty list are per thread (one libuv loop
 * per thread; callbacks never nest), so memory does not grow with the number of sockets.
 *
 * IPv4 only (the caller falls back to dgram for IPv6). Addresses cross as host-order uint32 + port.
 *
 * JS API (net/udp/socket.ts wraps it):
 *   init(ring: ArrayBuffer, meta: Int32Array)   once per thread, before start(): ring ≥ BATCH × SLOT octets;
 *        datagram i of a batch is at i × SLOT; meta[3i] = length, meta[3i+1] = source IPv4 (host order, as int32),
 *        meta[3i+2] = source port
 *   open(host: string, port: number, rcvbuf: number) → handle          throws Error with .code on failure
 *   start(handle, onBatch: (n) => void)
 *   send(handle, buf: Uint8Array, ip: number, port: number) → 0 or −errno   (queued while a batch is in JS)
 *   localPort(handle) → number
 *   stats(handle) → [batches, datagramsIn, datagramsOut, sendErrors]
 *   close(handle)                               queued datagrams are sent first
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
#define SLOT 65536          /* the largest UDP payload fits: nothing is ever truncated */
#define ARENA (1 << 20)     /* send arena: queued datagrams, packed */
#define MAX_DIRTY 1024

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int polling;
  int closed;
  int dirty; /* on the dirty list */
  napi_ref cb;
  napi_ref self_ref; /* keeps the handle's JS object alive while polling */
  napi_async_context actx;
  /* send queue: iovecs point into the thread's arena */
  int nq;
  struct mmsghdr smsg[BATCH];
  struct iovec siov[BATCH];
  struct sockaddr_in saddr[BATCH];
  double batches, in, out, send_errors;
} Sock;

/* Per thread: the receive ring (shared with JS), the receive headers, the send arena, the dirty list. */
static __thread uint8_t *t_ring;
static __thread int32_t *t_meta;
static __thread napi_ref t_ring_ref, t_meta_ref;
static __thread struct mmsghdr t_rmsg[BATCH];
static __thread struct iovec t_riov[BATCH];
static __thread struct sockaddr_in t_raddr[BATCH];
static __thread uint8_t *t_arena;
static __thread size_t t_arena_used;
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

/* Send one socket's queue (its arena space is reclaimed by flush_dirty). */
static void flush(Sock *s) {
  int done = 0;
  while (done < s->nq) {
    int r = sendmmsg(s->fd, s->smsg + done, (unsigned)(s->nq - done), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      /* The rest is lost (EAGAIN: send buffer full; ECONNREFUSED etc.), counted: UDP loses packets anyway. */
      s->send_errors += s->nq - done;
      break;
    }
    s->out += r;
    done += r;
  }
  s->nq = 0;
}

/* Send every queue filled during the batch; then the arena is free again. */
static void flush_dirty(void) {
  for (int i = 0; i < t_ndirty; i++) {
    Sock *d = t_dirty[i];
    d->dirty = 0;
    if (d->nq > 0) flush(d);
  }
  t_ndirty = 0;
  t_arena_used = 0;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  Sock *s = (Sock *)h->data;
  (void)events;
  if (s->closed || status < 0 || t_ring == NULL) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv;
  napi_get_reference_value(env, s->cb, &cb);
  napi_get_reference_value(env, s->self_ref, &recv);
  for (int round = 0; round < 4 && !s->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      t_rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
      t_rmsg[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(s->fd, t_rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      t_meta[3 * i] = (int32_t)t_rmsg[i].msg_len;
      t_meta[3 * i + 1] = (int32_t)ntohl(t_raddr[i].sin_addr.s_addr);
      t_meta[3 * i + 2] = ntohs(t_raddr[i].sin_port);
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
  free(h->data);
}

static void sock_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Sock *s = (Sock *)data;
  /* Reached for a socket never started (a started one is held by self_ref until close(), which unwraps it). */
  if (s->fd >= 0) close(s->fd);
  if (!s->polling) free(s);
}

static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *ring = NULL, *meta = NULL;
  size_t ring_len = 0, meta_len = 0;
  napi_typedarray_type tt;
  if (argc < 2 || napi_get_arraybuffer_info(env, argv[0], &ring, &ring_len) != napi_ok || ring_len < (size_t)BATCH * SLOT ||
      napi_get_typedarray_info(env, argv[1], &tt, &meta_len, &meta, NULL, NULL) != napi_ok || tt != napi_int32_array || meta_len < 3 * BATCH) {
    napi_throw_type_error(env, NULL, "init(ring: ArrayBuffer ≥ BATCH×SLOT, meta: Int32Array ≥ 3×BATCH)");
    return NULL;
  }
  if (t_ring != NULL) {
    napi_throw_error(env, NULL, "udp_mmsg: init() already called on this thread");
    return NULL;
  }
  t_arena = (uint8_t *)malloc(ARENA);
  if (t_arena == NULL) return throw_errno(env, "malloc", ENOMEM);
  CHECK_NAPI(napi_create_reference(env, argv[0], 1, &t_ring_ref));
  CHECK_NAPI(napi_create_reference(env, argv[1], 1, &t_meta_ref));
  t_ring = (uint8_t *)ring;
  t_meta = (int32_t *)meta;
  for (int i = 0; i < BATCH; i++) {
    t_riov[i].iov_base = t_ring + (size_t)i * SLOT;
    t_riov[i].iov_len = SLOT;
    t_rmsg[i].msg_hdr.msg_iov = &t_riov[i];
    t_rmsg[i].msg_hdr.msg_iovlen = 1;
    t_rmsg[i].msg_hdr.msg_name = &t_raddr[i];
  }
  return NULL;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char host[64];
  size_t hl = 0;
  int32_t port = 0, rcvbuf = 0;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_int32(env, argv[2], &rcvbuf) != napi_ok ||
      port < 0 || port > 65535) {
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
    s->smsg[i].msg_hdr.msg_iov = &s->siov[i];
    s->smsg[i].msg_hdr.msg_iovlen = 1;
    s->smsg[i].msg_hdr.msg_name = &s->saddr[i];
    s->smsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    s->saddr[i].sin_family = AF_INET;
  }
  if (napi_create_object(env, &self) != napi_ok || napi_wrap(env, self, s, sock_finalize, NULL, NULL) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "udp_mmsg: wrap failed");
    return NULL;
  }
  return self;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_valuetype t;
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc == 2 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL || s->closed || s->polling || t_ring == NULL || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "start(handle, onBatch) on an open socket, after init()");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK_NAPI(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &s->poll, s->fd) != 0) {
    napi_throw_error(env, NULL, "udp_mmsg: uv_poll_init failed");
    return NULL;
  }
  CHECK_NAPI(napi_create_reference(env, argv[1], 1, &s->cb));
  CHECK_NAPI(napi_create_reference(env, argv[0], 1, &s->self_ref));
  CHECK_NAPI(napi_create_string_utf8(env, "udp_mmsg", NAPI_AUTO_LENGTH, &name));
  CHECK_NAPI(napi_async_init(env, NULL, name, &s->actx));
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
  } else if (t_in_batch && len <= ARENA && (s->dirty || t_ndirty < MAX_DIRTY)) {
    if (t_arena_used + len > ARENA) flush_dirty(); /* arena full: send everything queued so far */
    if (!s->dirty) {
      s->dirty = 1;
      t_dirty[t_ndirty++] = s;
    }
    int q = s->nq;
    uint8_t *p = t_arena + t_arena_used;
    memcpy(p, data, len);
    t_arena_used += len;
    s->siov[q].iov_base = p;
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
    napi_throw_type_error(env, NULL, "stats(handle) on a socket not closed");
    return NULL;
  }
  double f[4] = {s->batches, s->in, s->out, s->send_errors};
  CHECK_NAPI(napi_create_array_with_length(env, 4, &arr));
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
    for (int i = 0; i < t_ndirty; i++) {
      if (t_dirty[i] == s) {
        t_dirty[i] = t_dirty[--t_ndirty];
        break;
      }
    }
    s->dirty = 0;
  }
  s->closed = 1;
  close(s->fd);
  s->fd = -1;
  if (s->polling) {
    uv_poll_stop(&s->poll);
    napi_delete_reference(env, s->cb);
    napi_async_destroy(env, s->actx);
    /* The JS object may now be collected; the Sock is freed once libuv has closed the poll handle. */
    napi_delete_reference(env, s->self_ref);
    napi_remove_wrap(env, argv[0], NULL);
    uv_close((uv_handle_t *)&s->poll, on_closed);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
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

// LD_PRELOAD shim for bench/api_benchmark.sh (API_BENCH_NODELAY=1): sets TCP_NODELAY on every
// socket the server accepts, to measure what the REST API costs without Nagle's algorithm. Without
// it, a response written in two pieces (headers, then body) waits for the client's delayed ACK:
// about 40 ms on Linux, on every keep-alive request. cpp-httplib leaves TCP_NODELAY off unless
// the server calls set_tcp_nodelay(true). Only for the benchmark; not part of tginvite.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
  if (fd < 0) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on non-TCP
}

int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  static int (*real)(int, struct sockaddr*, socklen_t*);
  if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
  int out = real(fd, addr, len);
  nodelay(out);
  return out;
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  static int (*real)(int, struct sockaddr*, socklen_t*, int);
  if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*, int))dlsym(RTLD_NEXT, "accept4");
  int out = real(fd, addr, len, flags);
  nodelay(out);
  return out;
}

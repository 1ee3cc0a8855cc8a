/* Unit tests for service/http/drain.c: a listener that stops new handshakes keeps the connections
 * already queued, refuses (not resets) the ones that come later, and a refused connection
 * gets a complete 503. Real sockets on 127.0.0.1. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "service/http/drain.h"

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A non-blocking connect to port; the socket, its connect() still pending or done. */
static int connect_nb(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((unsigned short)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    assert_true(rc == 0 || errno == EINPROGRESS);
    return fd;
}

/* Waits up to ms for connect() to finish: 0 connected, an errno, or -1 still pending. */
static int connect_result(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, ms) == 0)
        return -1;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err;
}

static void test_queued_kept_new_refused(void **state)
{
    (void)state;
    int port, lfd = listen_any(&port);
    int queued = connect_nb(port);
    assert_int_equal(connect_result(queued, 2000), 0);
    assert_int_equal(send(queued, "hello", 5, 0), 5);

    assert_int_equal(drain_stop_syns(lfd), 0);
    int late = connect_nb(port);
    assert_int_equal(connect_result(late, 300), -1); /* no SYN-ACK: still connecting */
    assert_int_equal(drain_half_open(port), 0);

    /* The connection queued before keeps working, data and all. */
    int c = accept(lfd, 0, 0);
    assert_true(c >= 0);
    char buf[8] = {0};
    assert_int_equal(recv(c, buf, sizeof buf, 0), 5);
    assert_string_equal(buf, "hello");
    assert_int_equal(send(c, "ok", 2, 0), 2);
    assert_int_equal(recv(queued, buf, sizeof buf, 0), 2);

    /* Out of LISTEN: the waiting client's next SYN is refused, and so is a new one. */
    assert_int_equal(shutdown(lfd, SHUT_RD), 0);
    assert_int_equal(connect_result(late, 10000), ECONNREFUSED);
    int after = connect_nb(port);
    assert_int_equal(connect_result(after, 10000), ECONNREFUSED);
    close(after);
    close(late);
    close(c);
    close(queued);
    close(lfd);
}

static void test_half_open_none(void **state)
{
    (void)state;
    int port, lfd = listen_any(&port);
    assert_int_equal(drain_half_open(port), 0);
    close(lfd);
}

static void test_refuse_is_a_complete_503(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char req[] = "POST /v1/fleets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    assert_int_equal(send(sv[0], req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    shutdown(sv[0], SHUT_WR);
    drain_refuse(sv[1]); /* closes sv[1] */

    char resp[1024];
    size_t n = 0;
    ssize_t r;
    while ((r = recv(sv[0], resp + n, sizeof resp - 1 - n, 0)) > 0)
        n += (size_t)r;
    resp[n] = '\0';
    close(sv[0]);
    assert_true(strncmp(resp, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
    assert_non_null(strstr(resp, "\r\nRetry-After: 1\r\n"));
    assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(resp, "\r\nContent-Type: application/problem+json\r\n"));
    const char *body = strstr(resp, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    const char *cl = strstr(resp, "Content-Length: ");
    assert_non_null(cl);
    assert_int_equal(strtoul(cl + 16, 0, 10), strlen(body));
    json_t *p = json_loads(body, 0, 0);
    assert_non_null(p);
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 503);
    assert_non_null(json_string_value(json_object_get(p, "detail")));
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queued_kept_new_refused),
        cmocka_unit_test(test_half_open_none),
        cmocka_unit_test(test_refuse_is_a_complete_503),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}

/*
 * http_pin_test.c - aws_http_request.pin_address (aws/http.c): a pinned request connects to the
 * address its caller checked and nowhere else, whatever the URL's host is (the webhook's defence
 * against a DNS answer that changes between the check and the connection, issue 17).
 *
 * A one-shot HTTP server listens on 127.0.0.2 only; the URL names 127.0.0.1 on the same port
 * (nobody listens there). Pinned to 127.0.0.2 the request reaches the server; pinned to another
 * address, or not pinned, it does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws/http.h"
#include "service/core/err.h"

struct server {
    int fd;
    int port;
    char host_header[128]; /* the Host the client sent */
};

static void *serve_one(void *arg)
{
    struct server *s = arg;
    int c = accept(s->fd, 0, 0);
    if (c < 0)
        return 0;
    char req[4096];
    ssize_t n = recv(c, req, sizeof req - 1, 0);
    req[n > 0 ? n : 0] = '\0';
    const char *h = strstr(req, "\r\nHost: ");
    if (h)
        sscanf(h + 8, "%127[^\r]", s->host_header);
    static const char ans[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    if (send(c, ans, sizeof ans - 1, 0) < 0)
        perror("send");
    close(c);
    return 0;
}

static int listen_on(const char *ip, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int post(const char *url, const char *pin, int *status)
{
    struct aws_http_options o = {1000, 2000, 0, 0};
    struct aws_http *h = aws_http_new(&o);
    struct aws_http_request req = {"POST", url, 0, 0, "{}", 2, pin};
    struct aws_http_response resp;
    struct aws_api_error err;
    aws_http_response_init(&resp);
    awserr_clear(&err);
    int rc = aws_http_send(h, &req, &resp, &err);
    *status = resp.status;
    aws_http_response_cleanup(&resp);
    aws_http_free(h);
    return rc;
}

static void test_pinned_goes_to_the_checked_address(void **state)
{
    (void)state;
    struct server s = {0};
    s.fd = listen_on("127.0.0.2", &s.port);
    assert_true(s.fd >= 0);
    pthread_t t;
    pthread_create(&t, 0, serve_one, &s);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", s.port);
    int status = 0;
    assert_int_equal(post(url, "127.0.0.2", &status), 0);
    assert_int_equal(status, 204);
    pthread_join(t, 0);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", s.port);
    assert_string_equal(s.host_header,
                        want); /* the URL's host, as sent; only the address is pinned */
    /* pinned elsewhere, or not pinned: the listener on 127.0.0.2 is not reached */
    assert_int_equal(post(url, "127.0.0.3", &status), FW_EUNAVAILABLE);
    assert_int_equal(post(url, 0, &status), FW_EUNAVAILABLE);
    /* a pin that is no numeric address is refused before any connection */
    assert_int_equal(post(url, "localhost", &status), FW_EUNAVAILABLE);
    close(s.fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinned_goes_to_the_checked_address),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}

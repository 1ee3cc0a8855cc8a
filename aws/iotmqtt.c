/*
 * iotmqtt.c - MQTT 5 over TLS to AWS IoT with libmosquitto and our own
 * SSL_CTX (see iotmqtt.h). The only file that includes mosquitto.h.
 *
 * libmosquitto is driven synchronously with mosquitto_loop: each call
 * sets what it waits for, loops until a callback says it came, the
 * broker closed the connection, or the deadline passed. Callbacks only
 * copy what they see into struct iotmqtt. The TCP connection is started
 * with mosquitto_connect_bind_async (a blocking connect() would wait out
 * the kernel's SYN retries, minutes) and awaited under the same timeout.
 *
 * Keys: the PEM text is parsed into an X509 and an EVP_PKEY through
 * memory BIOs and put into the SSL_CTX; nothing touches a file. What we
 * cannot wipe: libmosquitto's and OpenSSL's packet buffers, which held the
 * answers (a CreateKeysAndCertificate answer carries the new private key)
 * and are freed without wiping; payloads copied out are wiped by the
 * callback before libmosquitto frees its message.
 */
#include "aws/iotmqtt.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "aws/dataplane.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define EXPECT_MAX 4

struct iotmqtt {
    struct mosquitto *mosq;
    SSL_CTX *ctx;
    long timeout_ms;
    char peer[300];
    char sni[256]; /* the endpoint's name, for SNI when we dial its checked address */
    char alpn[32];
    /* what the callbacks saw */
    int connack;      /* -1 none yet, else the reason code */
    int connacked;    /* a CONNACK came */
    int closed;       /* the connection ended */
    int close_rc;     /* the DISCONNECT reason code or libmosquitto's rc */
    char reason[256]; /* the reason string of a CONNACK, PUBACK, SUBACK or DISCONNECT */
    int wait_mid, acked, ack_rc;
    int sub_n, sub_rc[8];
    char tls_error[200]; /* the certificate check's verdict */
    char log_error[200]; /* libmosquitto's last error line (no payloads) */
    const char *expect[EXPECT_MAX];
    size_t nexpect;
    int got; /* an expected message arrived */
    size_t which;
    struct buf answer;
};

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_ex_idx = -1;

static void lib_init(void)
{
    mosquitto_lib_init();
    s_ex_idx = SSL_CTX_get_ex_new_index(0, 0, 0, 0, 0);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- callbacks ---- */

static void read_reason(struct iotmqtt *m, const mosquitto_property *props)
{
    char *s = 0;
    if (props && mosquitto_property_read_string(props, MQTT_PROP_REASON_STRING, &s, false) && s) {
        snprintf(m->reason, sizeof m->reason, "%s", s);
        free(s);
    }
}

static void on_connect(struct mosquitto *mosq, void *ud, int rc, int flags,
                       const mosquitto_property *props)
{
    (void)mosq;
    (void)flags;
    struct iotmqtt *m = ud;
    m->connack = rc;
    m->connacked = 1;
    read_reason(m, props);
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc, const mosquitto_property *props)
{
    (void)mosq;
    struct iotmqtt *m = ud;
    m->closed = 1;
    m->close_rc = rc;
    read_reason(m, props);
}

/* The connection when mid is the message it waits for (then marked acknowledged), else NULL. */
static struct iotmqtt *ack_for(void *ud, int mid)
{
    struct iotmqtt *m = ud;
    if (mid != m->wait_mid)
        return 0;
    m->acked = 1;
    return m;
}

static void on_publish(struct mosquitto *mosq, void *ud, int mid, int rc,
                       const mosquitto_property *props)
{
    (void)mosq;
    struct iotmqtt *m = ack_for(ud, mid);
    if (!m)
        return;
    m->ack_rc = rc;
    read_reason(m, props);
}

static void on_subscribe(struct mosquitto *mosq, void *ud, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    (void)mosq;
    struct iotmqtt *m = ack_for(ud, mid);
    if (!m)
        return;
    m->sub_n = n < 8 ? n : 8;
    for (int i = 0; i < m->sub_n; i++)
        m->sub_rc[i] = granted[i];
    read_reason(m, props);
}

static void on_message(struct mosquitto *mosq, void *ud, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    (void)mosq;
    (void)props;
    struct iotmqtt *m = ud;
    for (size_t i = 0; !m->got && msg->topic && i < m->nexpect; i++) {
        if (strcmp(msg->topic, m->expect[i]))
            continue;
        buf_free_secure(&m->answer);
        buf_init(&m->answer, IOTMQTT_MAX_PAYLOAD);
        if (msg->payloadlen >= 0 && buf_reserve(&m->answer, (size_t)msg->payloadlen) == 0 &&
            buf_append(&m->answer, msg->payload, (size_t)msg->payloadlen) == 0) {
            m->got = 1;
            m->which = i;
        }
    }
    if (msg->payload && msg->payloadlen > 0)
        xwipe(msg->payload, (size_t)msg->payloadlen); /* it may carry a private key */
}

static void on_log(struct mosquitto *mosq, void *ud, int level, const char *line)
{
    (void)mosq;
    struct iotmqtt *m = ud;
    if (level == MOSQ_LOG_ERR && line)
        snprintf(m->log_error, sizeof m->log_error, "%s", line);
}

/* Keeps the certificate check's verdict for the error message. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
    if (ok)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct iotmqtt *m = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), s_ex_idx) : 0;
    if (m && !m->tls_error[0])
        snprintf(m->tls_error, sizeof m->tls_error, "%s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
    return ok;
}

/* When the connection goes to a checked numeric address, libmosquitto names that
 * address in SNI; at the start of the handshake (before the ClientHello is built)
 * the endpoint's name replaces it, as a device dialing the name would send. */
static void sni_cb(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_START))
        return;
    struct iotmqtt *m = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), s_ex_idx);
    if (m && m->sni[0])
        SSL_set_tlsext_host_name((SSL *)ssl, m->sni);
}

/* ---- the TLS context ---- */

static int use_pem(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
    BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
    X509 *cert = cb ? PEM_read_bio_X509(cb, 0, 0, 0) : 0;
    EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, 0, 0, 0) : 0;
    int ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 &&
             SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
    ERR_clear_error();
    return ok ? 0 : FW_EINVAL;
}

static int make_ctx(struct iotmqtt *m, const struct iotmqtt_options *o, struct aws_api_error *err)
{
    static const unsigned char alpn[] = "\x0e" IOTMQTT_ALPN;
    m->ctx = SSL_CTX_new(TLS_client_method());
    if (!m->ctx) {
        awserr_set(err, 0, AWSERR_TLS, "OpenSSL could not make a TLS context");
        return FW_EINTERNAL;
    }
    SSL_CTX_set_min_proto_version(m->ctx, TLS1_2_VERSION);
    SSL_CTX_set_ex_data(m->ctx, s_ex_idx, m);
    SSL_CTX_set_verify(m->ctx, SSL_VERIFY_PEER, verify_cb);
    if (SSL_CTX_load_verify_locations(m->ctx, o->ca_file, 0) != 1) {
        ERR_clear_error();
        awserr_set(err, 0, AWSERR_TLS, "cannot read the root CA file %s", o->ca_file);
        return FW_EINVAL;
    }
    /* The endpoint's certificate must name the host we dial (inherited by libmosquitto's SSL). */
    X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(m->ctx), o->host, 0);
    if (o->address) {
        snprintf(m->sni, sizeof m->sni, "%s", o->host);
        SSL_CTX_set_info_callback(m->ctx, sni_cb);
    }
    if (o->alpn && SSL_CTX_set_alpn_protos(m->ctx, alpn, sizeof alpn - 1) != 0) {
        awserr_set(err, 0, AWSERR_TLS, "OpenSSL could not offer ALPN");
        return FW_EINTERNAL;
    }
    if (use_pem(m->ctx, o->cert_pem, o->key_pem)) {
        awserr_set(err, 0, AWSERR_TLS,
                   "the client certificate or its private key is not valid PEM, or they "
                   "do not match");
        return FW_EINVAL;
    }
    return 0;
}

/* ---- driving the loop ---- */

/* Loops until *flag, the connection ends or the deadline. 0, or the rc. */
static int drive(struct iotmqtt *m, const int *flag)
{
    long long deadline = now_ms() + m->timeout_ms;
    while (!*flag && !m->closed) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return FW_ETIMEOUT;
        int rc = mosquitto_loop(m->mosq, left > 200 ? 200 : (int)left, 1);
        if (rc != MOSQ_ERR_SUCCESS && !*flag) {
            m->closed = 1;
            if (!m->close_rc)
                m->close_rc = rc;
        }
    }
    return *flag ? 0 : FW_EUNAVAILABLE;
}

static int closed_error(struct iotmqtt *m, const char *operation, struct aws_api_error *err)
{
    char detail[560];
    if (m->tls_error[0] || m->close_rc == MOSQ_ERR_TLS) {
        awserr_set(err, 0, AWSERR_TLS, "TLS with %s failed: %s", m->peer,
                   m->tls_error[0]   ? m->tls_error
                   : m->log_error[0] ? m->log_error
                                     : "handshake refused");
        snprintf(err->operation, sizeof err->operation, "%s", operation);
        return FW_EAWS;
    }
    int rc = m->close_rc >= 0x80 && m->close_rc <= 0xFF ? m->close_rc : -1;
    snprintf(detail, sizeof detail, "%.300s closed the connection%s%.200s", m->peer,
             m->log_error[0] ? ": " : "", m->log_error);
    dataplane_mqtt_error(err, DP_ERR_DISCONNECTED, operation, rc, m->reason, detail);
    return FW_EAWS;
}

static int timeout_error(struct iotmqtt *m, const char *operation, const char *what,
                         struct aws_api_error *err)
{
    awserr_set(err, 0, AWSERR_TIMEOUT, "no %s from %s within %ld ms", what, m->peer, m->timeout_ms);
    snprintf(err->operation, sizeof err->operation, "%s", operation);
    return FW_ETIMEOUT;
}

/* Waits for the TCP connection libmosquitto started (non-blocking) on its socket, at most
 * the timeout: a blocking connect() would wait for the kernel's SYN retries (minutes). */
static int await_tcp(struct iotmqtt *m, struct aws_api_error *err)
{
    struct pollfd p = {mosquitto_socket(m->mosq), POLLOUT, 0};
    long long start = now_ms(), deadline = start + m->timeout_ms;
    int n = 0;
    for (;;) {
        long long left = deadline - now_ms();
        n = left > 0 ? poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left) : 0;
        if (n >= 0 || errno != EINTR)
            break;
    }
    if (n == 0) {
        awserr_set(err, 0, AWSERR_TIMEOUT, "no TCP connection to %s within %ld ms (waited %lld ms)",
                   m->peer, m->timeout_ms, now_ms() - start);
        snprintf(err->operation, sizeof err->operation, "iot:Connect");
        return FW_ETIMEOUT;
    }
    int e = n < 0 ? errno : 0;
    socklen_t len = sizeof e;
    if (!e && getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &e, &len))
        e = errno;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    /* libmosquitto's first TLS write may have taken the socket's error already */
    if (!e && !getpeername(p.fd, (struct sockaddr *)&peer, &plen))
        return 0;
    awserr_set(err, 0, AWSERR_CONNECTION, "cannot reach %s: %s", m->peer,
               e ? strerror(e) : "connection refused or unreachable");
    snprintf(err->operation, sizeof err->operation, "iot:Connect");
    return FW_EUNAVAILABLE;
}

static int open_socket(struct iotmqtt *m, const struct iotmqtt_options *o,
                       struct aws_api_error *err)
{
    const char *to = o->address ? o->address : o->host; /* the checked address: no second lookup */
    /* the _async form: connect() does not block; the CONNECT packet waits in libmosquitto's queue
     * (MQTT 5 as set by MOSQ_OPT_PROTOCOL_VERSION; we send no CONNECT properties) */
    int rc =
        mosquitto_connect_bind_async(m->mosq, to, o->port, o->keepalive_s ? o->keepalive_s : 60, 0);
    if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(m->mosq) >= 0)
        return await_tcp(m, err);
    if (rc == MOSQ_ERR_TLS || m->tls_error[0])
        return closed_error(m, "iot:Connect", err);
    awserr_set(err, 0, AWSERR_CONNECTION, "cannot reach %s: %s", m->peer,
               rc == MOSQ_ERR_ERRNO     ? "connection refused or unreachable"
               : rc == MOSQ_ERR_SUCCESS ? "no socket"
                                        : mosquitto_strerror(rc));
    snprintf(err->operation, sizeof err->operation, "iot:Connect");
    return FW_EUNAVAILABLE;
}

static int check_options(const struct iotmqtt_options *o, struct aws_api_error *err)
{
    size_t idl = o->client_id ? strlen(o->client_id) : 0;
    if (!o->host || !o->host[0] || o->port <= 0 || o->port > 65535 || !o->ca_file || !o->cert_pem ||
        !o->key_pem || !idl || idl > IOTMQTT_CLIENT_ID_MAX) {
        awserr_set(err, 0, "InvalidParameter",
                   "an MQTT connection needs a host, a port, a CA file, a certificate, "
                   "a key and a client id of 1-128 bytes");
        return FW_EINVAL;
    }
    return 0;
}

static void set_callbacks(struct iotmqtt *m)
{
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(m->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
    mosquitto_void_option(m->mosq, MOSQ_OPT_SSL_CTX, m->ctx);
    mosquitto_connect_v5_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
    mosquitto_publish_v5_callback_set(m->mosq, on_publish);
    mosquitto_subscribe_v5_callback_set(m->mosq, on_subscribe);
    mosquitto_message_v5_callback_set(m->mosq, on_message);
    mosquitto_log_callback_set(m->mosq, on_log);
}

static void note_alpn(struct iotmqtt *m)
{
    SSL *ssl = mosquitto_ssl_get(m->mosq);
    const unsigned char *p = 0;
    unsigned int n = 0;
    if (ssl)
        SSL_get0_alpn_selected(ssl, &p, &n);
    if (p && n < sizeof m->alpn) {
        memcpy(m->alpn, p, n);
        m->alpn[n] = '\0';
    }
}

/* Drives the connection until *flag is set by the broker's acknowledgement what ("SUBACK"): 0, or
 * no acknowledgement in time or the connection closed, as operation's error. */
static int await_ack(struct iotmqtt *m, const int *flag, const char *operation, const char *what,
                     struct aws_api_error *err)
{
    int rc = drive(m, flag);
    if (rc == FW_ETIMEOUT)
        return timeout_error(m, operation, what, err);
    return rc ? closed_error(m, operation, err) : 0;
}

/* Message mid was handed to libmosquitto (send_rc its answer): waits for the broker's
 * acknowledgement what; 0, or operation's error as await_ack. */
static int await_sent(struct iotmqtt *m, int send_rc, int mid, const char *operation,
                      const char *what, struct aws_api_error *err)
{
    if (send_rc != MOSQ_ERR_SUCCESS)
        return closed_error(m, operation, err);
    m->wait_mid = mid;
    return await_ack(m, &m->acked, operation, what, err);
}

/* Waits for the CONNACK: 0 when it accepted the connection. */
static int await_connack(struct iotmqtt *m, struct aws_api_error *err)
{
    int rc = await_ack(m, &m->connacked, "iot:Connect", "CONNACK", err);
    if (rc)
        return rc;
    if (m->connack != 0) {
        dataplane_mqtt_error(err, DP_ERR_CONNECT_REFUSED, "iot:Connect", m->connack, m->reason, 0);
        return FW_EAWS;
    }
    return 0;
}

int iotmqtt_connect(const struct iotmqtt_options *o, struct iotmqtt **out,
                    struct aws_api_error *err)
{
    *out = 0;
    int rc = check_options(o, err);
    if (rc)
        return rc;
    pthread_once(&s_once, lib_init);
    struct iotmqtt *m = xcalloc(1, sizeof *m);
    m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : IOTMQTT_DEFAULT_TIMEOUT_MS;
    m->connack = -1;
    snprintf(m->peer, sizeof m->peer, "%s:%d", o->host, o->port);
    buf_init(&m->answer, IOTMQTT_MAX_PAYLOAD);
    rc = make_ctx(m, o, err);
    m->mosq = rc ? 0 : mosquitto_new(o->client_id, true, m);
    if (!rc && !m->mosq) {
        awserr_set(err, 0, "InvalidParameter", "libmosquitto could not make a client");
        rc = FW_EINTERNAL;
    }
    if (!rc) {
        set_callbacks(m);
        rc = open_socket(m, o, err);
    }
    rc = rc ? rc : await_connack(m, err);
    if (rc) {
        iotmqtt_close(m);
        return rc;
    }
    note_alpn(m);
    *out = m;
    return 0;
}

int iotmqtt_subscribe(struct iotmqtt *m, const char *const *filters, size_t n, size_t *refused,
                      struct aws_api_error *err)
{
    if (!n || n > 8) {
        awserr_set(err, 0, "InvalidParameter", "subscribe to 1-8 filters at once");
        return FW_EINVAL;
    }
    m->acked = 0;
    m->sub_n = 0;
    m->reason[0] = '\0';
    int mid = 0;
    int rc = mosquitto_subscribe_multiple(m->mosq, &mid, (int)n, (char *const *)filters, 1, 0, 0);
    rc = await_sent(m, rc, mid, "iot:Subscribe", "SUBACK", err);
    if (rc)
        return rc;
    for (int i = 0; i < (int)n; i++) {
        int code = i < m->sub_n ? m->sub_rc[i] : 0x80;
        if (code < 0x80)
            continue;
        if (refused)
            *refused = (size_t)i;
        dataplane_mqtt_error(err, DP_ERR_SUBSCRIBE_REFUSED, "iot:Subscribe", code, m->reason,
                             filters[i]);
        return FW_EAWS;
    }
    return 0;
}

void iotmqtt_expect(struct iotmqtt *m, const char *const *topics, size_t n)
{
    m->nexpect = n < EXPECT_MAX ? n : EXPECT_MAX;
    for (size_t i = 0; i < m->nexpect; i++)
        m->expect[i] = topics[i];
    m->got = 0;
    buf_free_secure(&m->answer);
    buf_init(&m->answer, IOTMQTT_MAX_PAYLOAD);
}

int iotmqtt_publish(struct iotmqtt *m, const char *topic, const void *payload, size_t len,
                    struct aws_api_error *err)
{
    if (len > IOTMQTT_MAX_PAYLOAD) {
        awserr_set(err, 0, "InvalidParameter", "a message is at most %u bytes",
                   IOTMQTT_MAX_PAYLOAD);
        return FW_EINVAL;
    }
    m->acked = 0;
    m->reason[0] = '\0';
    int mid = 0;
    int rc = mosquitto_publish_v5(m->mosq, &mid, topic, (int)len, payload, 1, false, 0);
    rc = await_sent(m, rc, mid, "iot:Publish", "PUBACK", err);
    if (rc)
        return rc;
    if (m->ack_rc >= 0x80) {
        dataplane_mqtt_error(err, DP_ERR_PUBLISH_REFUSED, "iot:Publish", m->ack_rc, m->reason,
                             topic);
        return FW_EAWS;
    }
    return 0;
}

int iotmqtt_wait(struct iotmqtt *m, size_t *which, struct buf *payload, struct aws_api_error *err)
{
    int rc = drive(m, &m->got);
    if (rc == FW_ETIMEOUT) {
        awserr_set(err, 0, DP_ERR_NO_ANSWER, "no answer from %s within %ld ms", m->peer,
                   m->timeout_ms);
        err->cls = AWS_ERRC_ACCESS; /* AWS drops answers a policy does not let the client receive */
        err->retryable = 0;
        snprintf(err->operation, sizeof err->operation, "iot:Receive");
        return FW_ETIMEOUT;
    }
    if (rc)
        return closed_error(m, "iot:Receive", err);
    *which = m->which;
    buf_free_secure(payload);
    *payload = m->answer;
    buf_init(&m->answer, IOTMQTT_MAX_PAYLOAD);
    m->got = 0;
    return 0;
}

void iotmqtt_close(struct iotmqtt *m)
{
    if (!m)
        return;
    if (m->mosq) {
        if (m->connack == 0 && !m->closed) {
            mosquitto_disconnect_v5(m->mosq, MQTT_RC_NORMAL_DISCONNECTION, 0);
            mosquitto_loop(m->mosq, 50, 1);
        }
        mosquitto_destroy(m->mosq);
    }
    SSL_CTX_free(m->ctx); /* libmosquitto held its own reference */
    buf_free_secure(&m->answer);
    free(m);
}

const char *iotmqtt_peer(const struct iotmqtt *m)
{
    return m ? m->peer : "";
}

const char *iotmqtt_alpn_used(const struct iotmqtt *m)
{
    return m ? m->alpn : "";
}

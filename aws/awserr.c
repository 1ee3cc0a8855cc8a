/*
 * awserr.c - turning AWS failures into one typed struct aws_api_error.
 *
 * Every failed call ends here: an XML error of the query protocol (IAM, STS,
 * CloudWatch), a JSON error of rest-json (IoT), or a failure of our own
 * (connection, timeout, oversized or unparsable answer). The error code, not
 * the HTTP status, decides the class: IoT throttles with HTTP 400, IAM says
 * NoSuchEntity with 404 but LimitExceeded with 409. Hints are appended for
 * the failures operators hit most, so the message says what to do next.
 * Nothing here sees a secret; messages come from AWS or from fixed text.
 */
#include "aws/awserr.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aws/xml.h"
#include "service/core/err.h"

struct code_class {
    const char *code;
    enum aws_err_class cls;
};

/* Throttling codes of botocore's standard retry mode. LimitExceededException
 * is left out: for IAM, IoT and CloudWatch it is a quota, not a rate. */
static const char *const s_throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

static const struct code_class s_codes[] = {
    {"RequestTimeout", AWS_ERRC_TRANSIENT},
    {"RequestTimeoutException", AWS_ERRC_TRANSIENT},
    {"InternalError", AWS_ERRC_TRANSIENT},
    {"InternalFailure", AWS_ERRC_TRANSIENT},
    {"InternalFailureException", AWS_ERRC_TRANSIENT},
    {"InternalServerError", AWS_ERRC_TRANSIENT},
    {"ServiceUnavailable", AWS_ERRC_TRANSIENT},
    {"ServiceUnavailableException", AWS_ERRC_TRANSIENT},
    {"ServiceFailure", AWS_ERRC_TRANSIENT},
    {AWSERR_CONNECTION, AWS_ERRC_TRANSIENT},
    {AWSERR_TIMEOUT, AWS_ERRC_TRANSIENT},
    {"AccessDenied", AWS_ERRC_ACCESS},
    {"AccessDeniedException", AWS_ERRC_ACCESS},
    {"UnauthorizedException", AWS_ERRC_ACCESS},
    {"UnauthorizedOperation", AWS_ERRC_ACCESS},
    {"UnrecognizedClientException", AWS_ERRC_ACCESS},
    {"InvalidClientTokenId", AWS_ERRC_ACCESS},
    {"InvalidAccessKeyId", AWS_ERRC_ACCESS},
    {"SignatureDoesNotMatch", AWS_ERRC_ACCESS},
    {"InvalidSignatureException", AWS_ERRC_ACCESS},
    {"IncompleteSignature", AWS_ERRC_ACCESS},
    {"MissingAuthenticationToken", AWS_ERRC_ACCESS},
    {"MissingAuthenticationTokenException", AWS_ERRC_ACCESS},
    {"ExpiredToken", AWS_ERRC_ACCESS},
    {"ExpiredTokenException", AWS_ERRC_ACCESS},
    {"OptInRequired", AWS_ERRC_ACCESS},
    {"NoSuchEntity", AWS_ERRC_NOTFOUND},
    {"ResourceNotFoundException", AWS_ERRC_NOTFOUND},
    {"ResourceNotFound", AWS_ERRC_NOTFOUND},
    {"NotFoundException", AWS_ERRC_NOTFOUND},
    {"EntityAlreadyExists", AWS_ERRC_CONFLICT},
    {"ResourceAlreadyExistsException", AWS_ERRC_CONFLICT},
    {"DeleteConflict", AWS_ERRC_CONFLICT},
    {"DeleteConflictException", AWS_ERRC_CONFLICT},
    {"CertificateStateException", AWS_ERRC_CONFLICT},
    {"ConflictingResourceUpdateException", AWS_ERRC_CONFLICT},
    /* IAM: "the request was rejected because multiple requests to change this object were submitted
     * simultaneously" - nothing is wrong with the request, so try it again. */
    {"ConcurrentModification", AWS_ERRC_TRANSIENT},
    {"ConcurrentModificationException", AWS_ERRC_TRANSIENT},
    {"ConflictException", AWS_ERRC_CONFLICT},
    {"VersionConflictException", AWS_ERRC_CONFLICT},
    {"ResourceInUseException", AWS_ERRC_CONFLICT},
    /* IAM: "the entity is temporarily unmodifiable, such as a user name that was deleted and then
     * recreated" - temporary by name */
    {"EntityTemporarilyUnmodifiable", AWS_ERRC_TRANSIENT},
    {"LimitExceeded", AWS_ERRC_LIMIT},
    {"LimitExceededException", AWS_ERRC_LIMIT},
    {"VersionsLimitExceeded", AWS_ERRC_LIMIT},
    {"VersionsLimitExceededException", AWS_ERRC_LIMIT},
    {"ValidationError", AWS_ERRC_VALIDATION},
    {"ValidationException", AWS_ERRC_VALIDATION},
    {"InvalidRequestException", AWS_ERRC_VALIDATION},
    {"InvalidInput", AWS_ERRC_VALIDATION},
    {"InvalidParameterValue", AWS_ERRC_VALIDATION},
    {"InvalidParameterCombination", AWS_ERRC_VALIDATION},
    {"InvalidParameter", AWS_ERRC_VALIDATION},
    {"MissingParameter", AWS_ERRC_VALIDATION},
    {"MalformedPolicyDocument", AWS_ERRC_VALIDATION},
    {"MalformedPolicyException", AWS_ERRC_VALIDATION},
    {"MalformedQueryString", AWS_ERRC_VALIDATION},
    {"InvalidAction", AWS_ERRC_VALIDATION},
    {"SerializationException", AWS_ERRC_VALIDATION},
    {"InvalidNextToken", AWS_ERRC_VALIDATION},
    {"PackedPolicyTooLarge", AWS_ERRC_VALIDATION},
    {"InvalidIdentityToken", AWS_ERRC_ACCESS},
    {"IDPRejectedClaim", AWS_ERRC_ACCESS},
    {"RegionDisabledException", AWS_ERRC_ACCESS},
    {AWSERR_TOO_LARGE, AWS_ERRC_OTHER},
    {AWSERR_MALFORMED, AWS_ERRC_OTHER},
    {AWSERR_TLS, AWS_ERRC_OTHER},
};

static void copy_field(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void awserr_clear(struct aws_api_error *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

int awserr_is_throttle_code(const char *code)
{
    for (size_t i = 0; code && i < sizeof s_throttle_codes / sizeof s_throttle_codes[0]; i++)
        if (strcmp(code, s_throttle_codes[i]) == 0)
            return 1;
    return 0;
}

enum aws_err_class awserr_class_of_code(const char *code)
{
    if (!code || !*code)
        return AWS_ERRC_NONE;
    if (awserr_is_throttle_code(code))
        return AWS_ERRC_THROTTLING;
    for (size_t i = 0; i < sizeof s_codes / sizeof s_codes[0]; i++)
        if (strcmp(code, s_codes[i].code) == 0)
            return s_codes[i].cls;
    return AWS_ERRC_NONE;
}

static enum aws_err_class class_of_status(int status)
{
    switch (status) {
    case 0: return AWS_ERRC_OTHER; /* no answer: our own codes say why */
    case 429: return AWS_ERRC_THROTTLING;
    case 500:
    case 502:
    case 503:
    case 504: return AWS_ERRC_TRANSIENT;
    case 401:
    case 403: return AWS_ERRC_ACCESS;
    case 404: return AWS_ERRC_NOTFOUND;
    case 409: return AWS_ERRC_CONFLICT;
    default: return status >= 400 && status < 500 ? AWS_ERRC_VALIDATION : AWS_ERRC_OTHER;
    }
}

void awserr_classify(struct aws_api_error *e)
{
    enum aws_err_class cls = awserr_class_of_code(e->code);
    /* An unknown code falls back on the status: a 5xx is still transient. */
    if (cls == AWS_ERRC_NONE)
        cls = class_of_status(e->http_status);
    e->cls = cls;
    e->retryable = cls == AWS_ERRC_THROTTLING || cls == AWS_ERRC_TRANSIENT;
}

void awserr_set(struct aws_api_error *e, int http_status, const char *code, const char *fmt, ...)
{
    if (!e)
        return;
    e->http_status = http_status;
    copy_field(e->code, sizeof e->code, code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    awserr_classify(e);
}

void awserr_append(struct aws_api_error *e, const char *fmt, ...)
{
    size_t used = strlen(e->message);
    if (used + 4 >= sizeof e->message)
        return;
    char *p = e->message + used;
    size_t room = sizeof e->message - used;
    int n = snprintf(p, room, "%s", used ? " (" : "(");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p + n, room - (size_t)n, fmt, ap);
    va_end(ap);
    used = strlen(e->message);
    if (used + 1 < sizeof e->message) {
        e->message[used] = ')';
        e->message[used + 1] = '\0';
    } else {
        e->message[used - 1] = ')';
    }
}

static void set_status_only(struct aws_api_error *e, int status, const char *request_id)
{
    char code[16];
    snprintf(code, sizeof code, "Http%d", status);
    awserr_set(e, status, code, "AWS answered HTTP %d without a readable error body", status);
    copy_field(e->request_id, sizeof e->request_id, request_id);
}

void awserr_from_xml(struct aws_api_error *e, int http_status, const char *body, size_t len,
                     const char *request_id_header)
{
    struct xml_node *root = 0;
    const struct xml_node *err = 0;
    if (len && xml_parse(body, len, &root) == 0)
        err = xml_find(root, "Error");
    const char *code = err ? xml_text(err, "Code") : 0;
    if (!code || !*code) {
        set_status_only(e, http_status, request_id_header);
        xml_free(root);
        return;
    }
    const char *msg = xml_text(err, "Message");
    awserr_set(e, http_status, code, "%s", msg ? msg : "");
    const char *rid = xml_text(root, "RequestId");
    if (!rid || !*rid)
        rid = xml_text(root, "RequestID");
    copy_field(e->request_id, sizeof e->request_id, (rid && *rid) ? rid : request_id_header);
    xml_free(root);
}

/* "aws.protocoltests#FooError:http://..." -> "FooError". */
static void normalize_code(const char *raw, char *out, size_t cap)
{
    const char *hash = strrchr(raw, '#');
    const char *start = hash ? hash + 1 : raw;
    size_t len = strcspn(start, ":");
    if (len >= cap)
        len = cap - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

static const char *json_str_any(json_t *o, const char *a, const char *b)
{
    const char *s = json_string_value(json_object_get(o, a));
    return s ? s : json_string_value(json_object_get(o, b));
}

void awserr_from_json(struct aws_api_error *e, int http_status, const char *error_type_header,
                      const char *body, size_t len, const char *request_id_header)
{
    json_t *doc = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : 0;
    json_t *obj = json_is_object(doc) ? doc : 0;
    const char *raw = (error_type_header && *error_type_header) ? error_type_header : 0;
    if (!raw && obj)
        raw = json_str_any(obj, "__type", "code");
    if (!raw && obj)
        raw = json_string_value(json_object_get(obj, "Code"));
    if (!raw || !*raw) {
        set_status_only(e, http_status, request_id_header);
        json_decref(doc);
        return;
    }
    char code[sizeof e->code];
    normalize_code(raw, code, sizeof code);
    const char *msg = obj ? json_str_any(obj, "message", "Message") : 0;
    awserr_set(e, http_status, code, "%s", msg ? msg : "");
    copy_field(e->request_id, sizeof e->request_id, request_id_header);
    json_decref(doc);
}

static int op_is(const struct aws_api_error *e, const char *op)
{
    return strcmp(e->operation, op) == 0;
}

static int code_is(const struct aws_api_error *e, const char *a, const char *b)
{
    return strcmp(e->code, a) == 0 || (b && strcmp(e->code, b) == 0);
}

static void hint_delete_conflict(struct aws_api_error *e)
{
    if (op_is(e, "iot:DeletePolicy"))
        awserr_append(e, "the policy is still attached to a certificate or other target, or has "
                         "non-default versions: detach it (ListTargetsForPolicy) and delete the "
                         "non-default versions first");
    else if (op_is(e, "iam:DeletePolicy"))
        awserr_append(e,
                      "the policy is still attached to a role, user or group, or has non-default "
                      "versions: detach it and delete the non-default versions first");
    else if (op_is(e, "iam:DeleteRole"))
        awserr_append(e, "the role still has attached or inline policies or is in an instance "
                         "profile: detach them first");
    else if (op_is(e, "iot:DeleteCertificate"))
        awserr_append(e, "the certificate still has policies or things attached: detach them "
                         "first or use forceDelete");
    else if (op_is(e, "iot:DeleteRoleAlias") || op_is(e, "iot:DeleteProvisioningTemplate"))
        awserr_append(e, "something still refers to this resource");
    else if (op_is(e, "iot:DeletePolicyVersion") || op_is(e, "iam:DeletePolicyVersion"))
        awserr_append(e, "the default version cannot be deleted: make another version the "
                         "default first");
}

static void hint_access(struct aws_api_error *e)
{
    if (code_is(e, "InvalidClientTokenId", "UnrecognizedClientException") ||
        code_is(e, "InvalidAccessKeyId", 0))
        awserr_append(e, "the access key id is not known to AWS: check the credentials in use");
    else if (code_is(e, "SignatureDoesNotMatch", "InvalidSignatureException") ||
             code_is(e, "IncompleteSignature", 0))
        awserr_append(e, "check the secret access key and that this machine's clock is right "
                         "(SigV4 allows about 5 minutes of skew)");
    else if (code_is(e, "ExpiredToken", "ExpiredTokenException"))
        awserr_append(e,
                      "the session token has expired: refresh the credentials and check the clock");
    else if (op_is(e, "iot:CreateRoleAlias") || op_is(e, "iot:UpdateRoleAlias"))
        awserr_append(e, "the caller needs iam:PassRole on the role given as roleArn");
}

void awserr_add_hint(struct aws_api_error *e)
{
    if (!e)
        return;
    if (code_is(e, "VersionsLimitExceeded", "VersionsLimitExceededException") ||
        (code_is(e, "LimitExceeded", 0) && op_is(e, "iam:CreatePolicyVersion")))
        awserr_append(
            e, "five versions is the limit: delete the oldest non-default version, then retry");
    else if (code_is(e, "DeleteConflict", "DeleteConflictException"))
        hint_delete_conflict(e);
    else if (code_is(e, "CertificateStateException", 0) && op_is(e, "iot:DeleteCertificate"))
        awserr_append(e, "set the certificate INACTIVE before deleting it");
    else if (e->cls == AWS_ERRC_ACCESS)
        hint_access(e);
}

int awserr_to_fw(const struct aws_api_error *e)
{
    switch (e->cls) {
    case AWS_ERRC_NONE: return 0;
    case AWS_ERRC_THROTTLING: return FW_ETHROTTLED;
    case AWS_ERRC_TRANSIENT:
        return strcmp(e->code, AWSERR_TIMEOUT) == 0 ? FW_ETIMEOUT : FW_EUNAVAILABLE;
    case AWS_ERRC_VALIDATION: return FW_EINVAL;
    case AWS_ERRC_NOTFOUND: return FW_ENOTFOUND;
    case AWS_ERRC_CONFLICT: return FW_ECONFLICT;
    case AWS_ERRC_LIMIT: return FW_ECONFLICT;
    default: return FW_EAWS;
    }
}

const char *awserr_class_name(enum aws_err_class cls)
{
    static const char *const names[] = {"none",        "throttling", "transient", "access",
                                        "validation",  "notfound",   "conflict",  "limit",
                                        "credentials", "other",      "settling"};
    return (unsigned)cls < sizeof names / sizeof names[0] ? names[cls] : "other";
}
